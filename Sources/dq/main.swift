/// The `dq` command: parses arguments, then runs files, `-e` text, stdin, or the REPL.
import CSupport
import DQ
import DQCheck
import DQShell

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

let version = "0.1.0"

let usage = """
  usage: dq [OPTIONS] [FILE...]
         dq -i [OPTIONS] [FILE...]

  Runs Datalog over the built-in relations dataset. With no FILE and no -e, reads a program from
  standard input, or starts the interactive shell when standard input is a terminal. The shell
  first runs the start-up file ~/.dqrc (or $DQRC), for settings such as .format tsv. A script
  may start with a '#!/usr/bin/env dq' line.

  options:
    -e, --eval TEXT        run TEXT (may be repeated; runs after the files)
    -c, --command TEXT     the same as -e
    -i, --interactive      run the files and texts, then start the shell with what they
                           defined (with standard input not a terminal, read it as the shell)
        --no-rc            do not run the start-up file (~/.dqrc, or the file $DQRC names)
        --rc               run the start-up file before scripts and -e text too (by default
                           only the shell runs it)
    -f, --format FORMAT    answer format: table (default), tsv, csv, json, jsonl,
                           markdown, line
        --no-dataset       start with no relations loaded
        --max-tuples N     stop a query after deriving N tuples (default 50000000;
                           0, or more than 10000000000: no limit)
        --timeout SECONDS  stop a query after SECONDS (default 60; 0, inf, or more than
                           1000000000: no limit)
        --memory SIZE      stop a query when dq holds more than SIZE (e.g. 4G, 800M, 25%;
                           default half the machine's memory; 0: no limit)
        --threads N        threads evaluation may use (default: every core; 1: one
                           thread); answers are the same for every N
        --no-warnings      do not warn about relations with no facts or rules
        --engine ENGINE    native (default) or postgres: compute queries in a PostgreSQL
                           server (needs libpq; .why, .steps and .plan stay native)
        --db CONNINFO      the server for --engine postgres, or whose tables --sql reads
                           (after --sql); a postgresql:// URI or key=value pairs;
                           default: libpq's PGHOST, PGPORT, ...
        --db-schema NAME   keep the relations in schema NAME (replaced each run) instead
                           of temporary tables
        --sql              print the program as one PostgreSQL script (psql -f) instead
                           of running its queries
        --list             list every relation: arity, columns, rows, description
        --export REL FILE  write every tuple of relation REL to FILE (.tsv, .csv, .jsonl,
                           .json, .db: a SQLite table), through a temporary file renamed
                           into place
        --why QUERY        explain each answer of QUERY down to facts and their sources
        --depth N          levels of rules --why shows before cutting the tree (default 6,
                           at most 1000)
        --graph QUERY      draw the answers of QUERY (two or three shown variables) as a
                           Graphviz DOT graph: dq --graph 'met(X, Y, _, _, _)' | dot -Tsvg
        --tutorial         start the interactive tutorial (lessons with checked exercises)
        --check            check each FILE against its '% expect:' comments instead of
                           printing its output (exit 1 when one differs)
    -h, --help             show this help
        --version          print the version

  exit status: 0 success, 64 bad command line, 65 syntax or semantic error,
               66 unreadable file, 70 runtime error, 74 output could not be written

  """

func writeStderr(_ s: String) { var s = s; s.withUTF8 { dq_write_stderr($0.baseAddress, $0.count) } }

/// The commands whose `.output` file is dropped when dq stops on an error.
nonisolated(unsafe) var activeCommands: Commands?

/// Writes answers; when standard output cannot take them (a full disk, a closed pipe with
/// SIGPIPE ignored), says so and stops with status 74.
func writeStdout(_ s: String) {
  var s = s
  let code = s.withUTF8 { dq_write_stdout($0.baseAddress, $0.count) }
  if code != 0 { stdoutFailed(code) }
}

func stdoutFailed(_ code: Int32) -> Never {
  activeCommands?.finishOutput(keep: false)
  writeStderr("dq: error: cannot write to standard output: \(String(cString: strerror(code)))\n")
  exit(74)
}

/// Flushes standard output and finishes the `.output` file (kept when `keep`), then exits:
/// with 74 when either could not be written.
func finish(_ code: Int32, commands: Commands, keep: Bool) -> Never {
  if let failure = commands.finishOutput(keep: keep) {
    writeStderr("dq: error: \(failure)\n")
    exitFlushed(74)
  }
  exitFlushed(code)
}

/// Exits once standard output is flushed (74 when it could not be).
func exitFlushed(_ code: Int32) -> Never {
  let flushed = dq_flush_stdout()
  if flushed != 0 { stdoutFailed(flushed) }
  exit(code)
}

func fail(_ message: String) -> Never {
  writeStderr("dq: error: \(message)\n(run 'dq --help' for usage)\n")
  exit(64)
}

/// Reads a whole file (or stdin for "-") within the source limits, or the reason it cannot be
/// read (a directory, a file or line past the limits of `Limits`).
func readFile(_ path: String) -> Result<String, SourceReader.Failure> { SourceReader.readText(path) }

let arguments: Arguments
switch Arguments.parse(Array(CommandLine.arguments.dropFirst())) {
case .failure(let problem): fail(problem.message)
case .success(let a): arguments = a
}
switch arguments.action {
case .run: break
case .help:
  writeStdout(usage)
  exitFlushed(0)
case .version:
  writeStdout("dq \(version)\n")
  exitFlushed(0)
}

if arguments.check {
  // Each file runs in a session of its own, with the options its comments give.
  guard !arguments.files.isEmpty else { fail("--check needs at least one FILE") }
  var failed = 0
  for path in arguments.files {
    let text: String
    switch readFile(path) {
    case .success(let t): text = t
    case .failure(let e):
      writeStderr("dq: error: cannot read '\(path)': \(e.reason)\n")
      exit(66)
    }
    // `--engine postgres` runs the files on that engine (those marked native-only are passed over).
    let problems = ExpectationChecker.check(name: path, text: text, engine: arguments.options.engine == .native ? nil : arguments.options.engine)
    if problems.isEmpty {
      writeStdout("\(path): ok\n")
    } else {
      failed += 1
      writeStdout("\(path): FAILED\n" + problems.map { "  " + $0 + "\n" }.joined())
    }
  }
  if arguments.files.count > 1 { writeStdout("\(arguments.files.count - failed) passed, \(failed) failed\n") }
  exitFlushed(failed == 0 ? 0 : 1)
}
if arguments.interactive && (arguments.check || arguments.list || !arguments.why.isEmpty) {
  fail("-i cannot be combined with --check, --list or --why")
}
if arguments.sql {
  // `--sql`: the files run as usual (static errors reported, exit codes the same), but each
  // query adds its SQL to one script instead of printing answers; the script is printed last.
  guard !arguments.files.isEmpty || !arguments.texts.isEmpty else { fail("--sql needs a FILE or -e TEXT") }
  guard !arguments.interactive, !arguments.check else { fail("--sql cannot be combined with -i or --check") }
  var options = arguments.options
  // `--sql --db CONNINFO` (or `--engine postgres`): server tables are read in the script.
  if case .postgres(let conninfo, _) = options.engine {
    options.engine = .sqlScript(conninfo: conninfo)
  } else {
    options.engine = .sqlScript(conninfo: nil)
  }
  options.warnings = false
  let sqlRenderer = DiagnosticRenderer(color: isatty(2) != 0 && getenv("NO_COLOR") == nil)
  let run = ScriptRun(
    options: options, loadDataset: arguments.loadDataset, write: { _ in }, writeError: writeStderr,
    report: { writeStderr(sqlRenderer.render($0)) })
  let inputs: [(name: String, text: Result<String, SourceReader.Failure>)] =
    arguments.files.map { ($0 == "-" ? "<stdin>" : $0, readFile($0)) } + arguments.texts.map { ("<command line>", .success($0)) }
  let status = run.run(inputs)
  if status == .ok || status == .exit { writeStdout(run.session.sqlScript?.text ?? SQLScript.empty) }
  exitFlushed(status.exitCode)
}
let colorErrors = isatty(2) != 0 && getenv("NO_COLOR") == nil
let renderer = DiagnosticRenderer(color: colorErrors)
// Files and `-e` texts run as `dq --check` runs them (dot-commands included).
let script = ScriptRun(
  options: arguments.options, loadDataset: arguments.loadDataset, write: writeStdout, writeError: writeStderr,
  report: { writeStderr(renderer.render($0)) })
let session = script.session
let commands = script.commands
// Tables written to a terminal are fitted to its width (`.width`).
commands.terminalWidth = { let w = dq_terminal_width(1); return w > 0 ? Int(w) : nil }
activeCommands = commands

var status = Session.Status.ok
var inputs: [(name: String, text: Result<String, SourceReader.Failure>)] = arguments.files.map {
  ($0 == "-" ? "<stdin>" : $0, readFile($0))
}
inputs += arguments.texts.map { ("<command line>", .success($0)) }
if arguments.tutorial && isatty(0) == 0 { fail("--tutorial needs a terminal") }
let inspecting = arguments.list || !arguments.exports.isEmpty || !arguments.why.isEmpty || !arguments.graph.isEmpty
let terminal = isatty(0) != 0
/// The start-up file, and whether the user named it (`$DQRC`): nil when none should run.
let startupFile: (path: String, named: Bool)? = {
  arguments.startupFile == .skip ? nil : Shell.startupFile()
}()
let shellStarts = arguments.interactive || (inputs.isEmpty && !inspecting && terminal)
// A signal that ends dq removes the `.output` temporary file first (the shell handles SIGINT).
dq_install_cleanup_handlers(shellStarts && terminal ? 0 : 1)
if shellStarts {
  // The interactive shell: over a terminal, or (`dq -i` with input from a pipe) reading
  // standard input line by line as the shell does, with no prompt.
  let reader: LineReader
  if terminal {
    dq_install_sigint_handler()
    let editLine = EditLineReader(historyPath: EditLineReader.defaultHistoryPath(), completion: Completer(session: session))
    editLine.warn = { writeStderr("dq: warning: \($0)\n") }
    editLine.loadHistory()
    reader = editLine
  } else {
    reader = PlainLineReader()
  }
  let shell = Shell(session: session, reader: reader, write: writeStdout, writeError: writeStderr, color: colorErrors)
  shell.commands.terminalWidth = commands.terminalWidth
  shell.commands.terminalIsOurs = terminal && isatty(1) != 0
  activeCommands = shell.commands
  if terminal { writeStdout(shell.welcome(version: version)) }
  // The start-up file, then `-i`'s files and texts; `.quit` in any of them ends dq there.
  var goOn = startupFile.map { shell.runStartupFile($0.path, named: $0.named) } ?? true
  for input in inputs where goOn { goOn = shell.runInput(name: input.name, text: input.text) }
  guard goOn else { finish(0, commands: shell.commands, keep: true) }
  if arguments.tutorial { _ = shell.commands.tutorial.command("") }
  let code = shell.run()
  finish(code, commands: shell.commands, keep: true)
}
if inputs.isEmpty && !inspecting { inputs = [("<stdin>", readFile("-"))] }
// `--rc` runs the start-up file before scripts too; an error in it stops them, as in a script.
if arguments.startupFile == .always, let (path, named) = startupFile {
  switch readFile(path) {
  case .success(let text): status = session.run(SourceFile(name: path, text: text))
  case .failure(let e):
    if named || access(path, F_OK) == 0 {
      writeStderr("dq: error: cannot read start-up file '\(path)': \(e.reason)\n")
      status = .unreadableInput
    }
  }
}
if status == .ok { status = script.run(inputs) }
if status == .ok && arguments.list {
  do {
    try session.writeRelationListing()
  } catch {
    commands.report(error.diagnostic)
    status = .runtimeError
  }
}
if status == .ok {
  for (relation, file) in arguments.exports {
    let quotedFile = "\"" + file + "\""
    status = script.run([("<--export>", .success(".export \(relation) \(quotedFile)\n"))])
    if status != .ok { break }
  }
}
if status == .ok {
  for text in arguments.why {
    status = session.why(CommandArgument(standalone: text, name: "<--why>"), depth: arguments.depth)
    if status != .ok { break }
  }
}
if status == .ok {
  for text in arguments.graph {
    status = session.graph(CommandArgument(standalone: text, name: "<--graph>"))
    if status != .ok { break }
  }
}
if script.errorCount > 1 { writeStderr("\(script.errorCount) errors\n") }
finish(status.exitCode, commands: commands, keep: status == .ok || status == .exit)
