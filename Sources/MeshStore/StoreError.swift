/// Something the store could not do, in one line naming the file and the reason.
///
/// Bad input from outside (a directory that is not a run, a damaged or newer database, a full or
/// read-only disk) is reported with this error, never a crash; the CLI prints ``description`` and
/// exits non-zero. Whatever was acknowledged before the error (an append that returned) stays on
/// disk: no error path deletes or recreates an existing database.
public struct StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable, Equatable {
        /// The directory is missing or holds no run database.
        case notARun
        /// A run database already exists where a new one was to be created.
        case alreadyExists
        /// The file is not a Meshwork run database (another SQLite file, or not SQLite at all).
        case notADatabase
        /// The database was written by a newer Meshwork (its schema version is higher than ours).
        case newerSchema
        /// The database file is corrupt or truncated.
        case corrupt
        /// The directory, file or filesystem cannot be written.
        case readOnly
        /// The disk is full: the operation was rolled back, earlier appends are intact.
        case diskFull
        /// Another process is writing this run (one writer per run).
        case busy
        /// A stored digest differs from the one recomputed from the records.
        case digestMismatch
        /// Appended journal entries do not continue the stored journal (a gap or a different record).
        case journalOrder
        /// An artifact is missing.
        case missingArtifact
        /// An artifact's bytes do not hash to its name, or a transfer does not add up.
        case artifactMismatch
        /// A value passed in is out of range (a chunk past the end, a malformed hash).
        case invalidArgument
        /// Any other I/O or SQLite failure.
        case io
    }

    /// The kind of failure.
    public var code: Code
    /// The file or directory concerned.
    public var path: String
    /// Why, in words.
    public var reason: String
    /// The native error code when there is one: SQLite's extended result code, or `errno`.
    public var nativeCode: Int32?

    /// Makes an error about `path`.
    public init(_ code: Code, path: String, _ reason: String, nativeCode: Int32? = nil) {
        self.code = code
        self.path = path
        self.reason = reason
        self.nativeCode = nativeCode
    }

    /// `path: reason`, one line.
    public var description: String {
        let line = "\(self.path): \(self.reason)"
        return line.contains("\n") ? line.split(separator: "\n").joined(separator: " ") : line
    }
}
