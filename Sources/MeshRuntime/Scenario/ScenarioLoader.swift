import Foundation
public import MeshCore
import Yams

/// Reads scenario files (YAML) into ``Scenario`` values, turning every problem into a one-line
/// ``ScenarioError`` that names the file, the line, the field and what was expected.
public enum ScenarioLoader {
    /// Loads and validates the scenario at `path`, reading the files a lifecycle workflow names
    /// (relative to the working directory).
    public static func load(path: String) throws(ScenarioError) -> Scenario {
        var scenario = try self.parse(try self.read(path), file: path)
        if case .lifecycle(let files) = scenario.workflow {
            scenario.lifecycle = try self.resolve(files)
        }
        return scenario
    }

    /// Reads and decodes the use case, catalog and zoo files of a lifecycle scenario.
    public static func resolve(_ files: LifecycleScenario) throws(ScenarioError) -> LifecycleSpec {
        var useCases: [UseCaseSpec] = []
        // One decoder for every file: making one costs more than decoding a small use case file
        // (Yams' initializer evaluates `Parser.Encoding.default`, which copies the environment).
        let decoder = YAMLDecoder(encoding: .utf8)
        for path in files.useCases {
            let useCase = try self.decode(UseCaseSpec.self, path: path, with: decoder)
            guard !useCases.contains(where: { $0.id == useCase.id }) else {
                throw ScenarioError(.invalid, file: path, field: "id", expected: "a use case id used once (\(useCase.id) is taken)")
            }
            useCases.append(useCase)
        }
        let catalog = try self.decode(DataCatalog.self, path: files.catalog).sources
        let zoo = try self.decode(ModelZoo.self, path: files.zoo)
        for useCase in useCases {
            for source in useCase.sources where !catalog.contains(where: { $0.id == source }) {
                throw ScenarioError(
                    .invalid, file: files.useCases[useCases.firstIndex(of: useCase) ?? 0], field: "sources",
                    expected: "a source of \(files.catalog) (\(source) is not there)")
            }
        }
        for outage in files.outages ?? [] where !catalog.contains(where: { $0.id == outage.source }) {
            throw ScenarioError(
                .invalid, file: files.catalog, field: "outages.source", expected: "a source of \(files.catalog) (\(outage.source) is not there)")
        }
        return LifecycleSpec(
            useCases: useCases, catalog: catalog, zoo: zoo, human: files.human, search: files.search, serving: files.serving,
            monitoring: files.monitoring, outages: files.outages)
    }

    /// Decodes the YAML file at `path` as a `T`, with the same one-line errors as a scenario.
    public static func decode<T: Decodable>(_ type: T.Type, path: String) throws(ScenarioError) -> T {
        try self.decode(type, path: path, with: YAMLDecoder(encoding: .utf8))
    }

    static func decode<T: Decodable>(_ type: T.Type, path: String, with decoder: YAMLDecoder) throws(ScenarioError) -> T {
        let text = try self.read(path)
        let root = try self.compose(text, file: path)
        do {
            return try decoder.decode(T.self, from: root)
        } catch let error as DecodingError {
            throw self.invalid(error, root: root, file: path)
        } catch {
            throw ScenarioError(.invalid, file: path, expected: "\(error)")
        }
    }

    private static func read(_ path: String) throws(ScenarioError) -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read as UTF-8 text" : "no such file"
            throw ScenarioError(.unreadable, file: path, expected: reason)
        }
    }

    private static func compose(_ text: String, file: String) throws(ScenarioError) -> Node {
        let root: Node
        do {
            // UTF-8 named, not `.default`: Yams computes that from the whole environment on every
            // call, 17 % of the coordinator's start-up with a fleet's 1,001 files.
            // The basic resolver (no rules): tags are resolved after, once, by `resolvingTags`.
            guard let node = try Yams.compose(yaml: text, .basic, self.constructor, .utf8) else {
                throw ScenarioError(.invalid, file: file, line: 1, expected: "a mapping, but the file is empty")
            }
            root = node
        } catch let error as ScenarioError {
            throw error
        } catch let error as YamlError {
            throw self.syntaxError(error, file: file)
        } catch {
            throw ScenarioError(.syntax, file: file, expected: "\(error)")
        }
        guard root.mapping != nil else {
            throw ScenarioError(.invalid, file: file, line: root.mark?.line, column: root.mark?.column,
                                expected: "a mapping of fields at the top level")
        }
        return self.resolvingTags(root)
    }

    /// Yams' default constructor, made once: `Constructor.default` builds a new one (a dictionary
    /// of every tag's constructor) on each use, and `Tag`'s initialiser uses it by default.
    /// (Not `Sendable` in Yams, but immutable after its initialiser: sharing it is safe.)
    nonisolated(unsafe) private static let constructor = Constructor.default

    /// The tree with every plain scalar's tag resolved once, and mappings whose key lookups need no
    /// regular expression.
    ///
    /// Yams resolves an implicit tag by trying up to seven `NSRegularExpression`s (slow on Linux),
    /// and its decoder looks a field up by comparing the mapping's keys with a fresh key node, whose
    /// tag it resolves again on every lookup. With a fleet's 1,001 files that was most of the
    /// mesh's start-up. Here a scalar that cannot match any of Yams' default rules (its first
    /// character says so) is a string without a regular expression; the others are resolved once,
    /// by Yams' own default resolver; keys are strings; and each mapping's tag carries the basic
    /// resolver (no rules), which the decoder's lookup key inherits. What decodes is unchanged
    /// (ScenarioTagTests).
    static func resolvingTags(_ node: Node) -> Node {
        switch node {
        case .scalar(let scalar):
            guard scalar.tag.description.isEmpty else { return node }  // explicit, or quoted (str)
            return .scalar(Node.Scalar(scalar.string, Tag(self.defaultTag(of: scalar.string), .default, self.constructor), scalar.style, scalar.mark, scalar.anchor))
        case .mapping(let mapping):
            let pairs = mapping.map { key, value -> (Node, Node) in
                // A key is a string to the decoder's lookups (which inherit the basic resolver), except
                // the merge key `<<` and the value key `=`, which Yams acts on by their tags. (The
                // parser has already resolved keys with the basic resolver, to find duplicates.)
                let resolvedKey: Node
                if case .scalar(let scalar) = key, scalar.style == .plain || scalar.style == .any {
                    let resolved = self.defaultTag(of: scalar.string)
                    let name = resolved == .merge || resolved == .value ? resolved : Tag.Name.str
                    resolvedKey = .scalar(Node.Scalar(scalar.string, Tag(name, .default, self.constructor), scalar.style, scalar.mark, scalar.anchor))
                } else {
                    resolvedKey = key
                }
                return (resolvedKey, self.resolvingTags(value))
            }
            let tag = Tag(Tag.Name(rawValue: mapping.tag.description), .basic, self.constructor)
            return .mapping(Node.Mapping(pairs, tag, mapping.style, mapping.mark, mapping.anchor))
        case .sequence(let sequence):
            return .sequence(Node.Sequence(sequence.map(self.resolvingTags), sequence.tag, sequence.style, sequence.mark, sequence.anchor))
        case .alias:
            return node
        }
    }

    /// The tag Yams' default resolver gives a plain scalar of this text, without its regular
    /// expressions when the first character rules them all out.
    static func defaultTag(of text: String) -> Tag.Name {
        self.isPlainString(text) ? .str : Resolver.default.resolveTag(of: .scalar(Node.Scalar(text, Tag(.implicit, .default, self.constructor))))
    }

    /// Whether a plain scalar is a string whatever Yams' default rules say: only the empty
    /// string, `~`, numbers, `.inf`/`.nan`, `<<`, `=`, timestamps and the words of bool and null
    /// (starting y, n, t, f, o) can resolve to another tag.
    static func isPlainString(_ text: String) -> Bool {
        guard let first = text.utf8.first else { return false }
        switch first {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "~"),
            UInt8(ascii: "<"), UInt8(ascii: "="), UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "n"), UInt8(ascii: "N"),
            UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "o"), UInt8(ascii: "O"):
            return false
        default:
            return true
        }
    }

    /// Parses scenario text; `file` is only used in errors.
    public static func parse(_ text: String, file: String) throws(ScenarioError) -> Scenario {
        let root = try self.compose(text, file: file)
        do {
            return try YAMLDecoder(encoding: .utf8).decode(Scenario.self, from: root)
        } catch let error as DecodingError {
            throw self.invalid(error, root: root, file: file)
        } catch {
            throw ScenarioError(.invalid, file: file, expected: "\(error)")
        }
    }

    private static func syntaxError(_ error: YamlError, file: String) -> ScenarioError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
            return ScenarioError(.syntax, file: file, line: mark.line, column: mark.column, expected: "invalid YAML: \(problem)")
        default:
            return ScenarioError(.syntax, file: file, expected: "invalid YAML: \(error)")
        }
    }

    private static func invalid(_ error: DecodingError, root: Node, file: String) -> ScenarioError {
        let path: [any CodingKey]
        let expected: String
        switch error {
        case .typeMismatch(let type, let context):
            path = context.codingPath
            expected = "expected \(self.describe(type))"
        case .valueNotFound(let type, let context):
            path = context.codingPath
            expected = "expected \(self.describe(type)), found nothing"
        case .keyNotFound(let key, let context):
            path = context.codingPath + [key]
            expected = "missing required field"
        case .dataCorrupted(let context):
            path = context.codingPath
            let text = context.debugDescription
            expected = text.hasPrefix("unknown field") || text.hasPrefix("missing") ? text : "expected \(text)"
        @unknown default:
            path = []
            expected = "\(error)"
        }
        let keys = path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
        let field = keys.reduce("") { partial, key in
            key.hasPrefix("[") || partial.isEmpty ? partial + key : partial + "." + key
        }
        let mark = self.mark(of: path, in: root)
        return ScenarioError(.invalid, file: file, line: mark?.line, column: mark?.column, field: field, expected: expected)
    }

    /// The position of the deepest node along `path` (the key's own node for a mapping entry).
    private static func mark(of path: [any CodingKey], in root: Node) -> Mark? {
        var node = root
        var best = root.mark
        for key in path {
            if let mapping = node.mapping {
                guard let entry = mapping.first(where: { $0.key.string == key.stringValue }) else { break }
                best = entry.key.mark ?? best
                node = entry.value
            } else if let sequence = node.sequence, let index = key.intValue, index < sequence.count {
                node = sequence[index]
                best = node.mark ?? best
            } else {
                break
            }
        }
        return best
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is UInt64.Type, is Int64.Type, is UInt32.Type, is UInt.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") { return "a list" }
            if name.hasPrefix("Dictionary") { return "a mapping" }
            return "a \(name)"
        }
    }
}
