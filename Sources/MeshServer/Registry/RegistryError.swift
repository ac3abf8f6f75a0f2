/// A registry operation named something that does not exist or would break the registry's rules.
///
/// The pipeline agent gets it from ``ModelRegistry`` calls (deploy, promote, rollback); the message
/// names the model, the version or alias, and the reason.
public struct RegistryError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: String, Hashable, Sendable, Codable {
        /// A model or alias name uses characters outside `A-Z a-z 0-9 . _ -`, or is empty or too long.
        case invalidName
        /// A version number below 1, or a version whose weights do not fit together.
        case invalidVersion
        /// Another version with the same name and number is already registered.
        case versionExists
        /// No model of that name is registered.
        case modelNotFound
        /// The model has no version of that number.
        case versionNotFound
        /// The model has no such alias.
        case aliasNotFound
        /// The alias has never pointed at another version, so there is nothing to roll back to.
        case nothingToRollBack
        /// A stored version's weights file is missing from the blob store, cannot be read, does
        /// not match its hash, or does not decode.
        case weightsUnavailable
    }

    /// What went wrong.
    public var code: Code
    /// Why, naming the model, version or alias.
    public var reason: String

    /// Makes an error.
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    /// `reason (code)`.
    public var description: String { "\(self.reason) (\(self.code.rawValue))" }
}
