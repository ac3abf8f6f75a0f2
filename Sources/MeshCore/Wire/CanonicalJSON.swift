import FoundationEssentials

/// JSON for the task bodies that are records rather than tensors (use cases, reports, plans,
/// decisions): keys sorted and no optional whitespace, so the same value always gives the same
/// bytes — their SHA-256 enters the run's digest.
public enum CanonicalJSON {
    /// The canonical bytes of `value`.
    public static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            preconditionFailure("\(T.self) did not encode as JSON: \(error)")
        }
    }

    /// Decodes `bytes` as a `T`; `what` names the body in the error.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], what: String) throws(WireError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw WireError(.invalidField, "\(what): not a valid \(T.self) (\(error))")
        }
    }
}
