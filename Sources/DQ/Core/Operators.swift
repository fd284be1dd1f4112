/// Arithmetic operators in terms.
public enum ArithmeticOperator: String, Sendable, Hashable {
  case add = "+", subtract = "-", multiply = "*", divide = "/", modulo = "mod"
}

/// Comparison operators in body literals.
public enum ComparisonOperator: String, Sendable, Hashable {
  case equal = "=", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
}

/// The aggregate functions.
public enum AggregateFunction: String, Sendable, Hashable, CaseIterable {
  case count, sum, min, max
}
