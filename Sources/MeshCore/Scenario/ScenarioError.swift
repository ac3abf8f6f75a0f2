/// A scenario file could not be used; the message is one line naming file, line, field and what
/// was expected, and the CLI exits with code 2.
public struct ScenarioError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public enum Code: String, Sendable, Equatable {
        /// The file could not be read.
        case unreadable
        /// The text is not valid YAML.
        case syntax
        /// The YAML does not describe a valid scenario.
        case invalid
    }

    /// What is wrong.
    public var code: Code
    /// The file, as the user named it.
    public var file: String
    /// The 1-based line, when known.
    public var line: Int?
    /// The 1-based column, when known.
    public var column: Int?
    /// The field's path, such as `workflow.relay.tokens`, when known.
    public var field: String?
    /// What was expected, or what went wrong.
    public var expected: String

    public init(_ code: Code, file: String, line: Int? = nil, column: Int? = nil, field: String? = nil, expected: String) {
        self.code = code
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.expected = expected
    }

    public var description: String {
        var place = self.file
        if let line = self.line {
            place += ":\(line)"
            if let column = self.column { place += ":\(column)" }
        }
        if let field = self.field, !field.isEmpty { return "\(place): \(field): \(self.expected)" }
        return "\(place): \(self.expected)"
    }
}
