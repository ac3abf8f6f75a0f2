public import MeshCore

/// The one address a user gives for a mesh, and the two socket endpoints derived from it: the
/// forwarder's XSUB (where publishers connect) and its XPUB (where subscribers connect).
///
/// | address | XSUB (publishers) | XPUB (subscribers) |
/// |---|---|---|
/// | `ipc:///run/mesh/x` | `ipc:///run/mesh/x.in` | `ipc:///run/mesh/x.out` |
/// | `inproc://mesh` | `inproc://mesh.in` | `inproc://mesh.out` |
/// | `tcp://HOST:PORT` | `tcp://HOST:PORT` | `tcp://HOST:PORT+1` |
///
/// `tcp://HOST:0` may only be bound: the forwarder picks a free port pair and reports the
/// address it really bound. An IPv6 host is written in brackets (`tcp://[::1]:5555`).
///
/// ```swift
/// let endpoint = try MeshEndpoint("tcp://10.0.0.5:5555")
/// endpoint.xsubEndpoint   // "tcp://10.0.0.5:5555"
/// endpoint.xpubEndpoint   // "tcp://10.0.0.5:5556"
/// ```
public struct MeshEndpoint: Hashable, Sendable, CustomStringConvertible {
    /// The transport of an address.
    public enum Kind: String, Hashable, Sendable {
        /// Within one process (one shared ``ZeroMQContext``).
        case inproc
        /// Unix domain sockets: one host.
        case ipc
        /// TCP: many hosts.
        case tcp
    }

    /// The longest path of a Unix domain socket, in bytes (`sun_path` holds 108 with its NUL).
    public static let maxIPCPathLength = 107

    /// How the address is reached.
    public let kind: Kind
    /// `ipc`/`inproc`: the path or name; `tcp`: the host (brackets kept for IPv6).
    public let location: String
    /// `tcp` only: the base port (the XSUB's; the XPUB is one above). 0 asks the binder to pick.
    public let port: Int?

    /// Parses a user-given address.
    ///
    /// Throws `TransportError(.endpoint, …)` naming the address and the reason: an unknown scheme,
    /// an empty name, a path too long for a Unix socket, or a missing, malformed or out-of-range port.
    public init(_ address: String) throws(TransportError) {
        let parsed = try EndpointAddress(address, suffixes: (".in", ".out"))
        self.kind = parsed.kind
        self.location = parsed.location
        self.port = parsed.port
    }

    init(_ parsed: EndpointAddress) {
        self.kind = parsed.kind
        self.location = parsed.location
        self.port = parsed.port
    }

    private var parsed: EndpointAddress { EndpointAddress(kind: self.kind, location: self.location, port: self.port) }

    /// The address as given (with the real port once a forwarder has bound it).
    public var description: String { self.parsed.description }

    /// The forwarder's XSUB endpoint: every participant's PUB connects here.
    public var xsubEndpoint: String { self.parsed.derived(suffix: ".in", portOffset: 0) }

    /// The forwarder's XPUB endpoint: every participant's SUB connects here.
    public var xpubEndpoint: String { self.parsed.derived(suffix: ".out", portOffset: 1) }

    /// Whether the address asks for an ephemeral port (`tcp://HOST:0`): it can be bound, not connected to.
    public var isEphemeral: Bool { self.kind == .tcp && self.port == 0 }

    /// Whether the host of a `tcp` address is IPv6 (sockets then need ZMQ_IPV6).
    var isIPv6: Bool { self.kind == .tcp && self.location.hasPrefix("[") }
}

/// A parsed `scheme://…` address and the derivation of its two socket endpoints: a suffix on the
/// path or name (`ipc`, `inproc`), or a port offset (`tcp`). Shared by ``MeshEndpoint`` and the
/// raw relay's links.
struct EndpointAddress: Hashable, Sendable, CustomStringConvertible {
    var kind: MeshEndpoint.Kind
    var location: String
    var port: Int?

    init(kind: MeshEndpoint.Kind, location: String, port: Int?) {
        self.kind = kind
        self.location = location
        self.port = port
    }

    /// Parses `address`; `suffixes` are the two suffixes derived endpoints will carry, so an ipc
    /// path is checked with the longer one.
    init(_ address: String, suffixes: (String, String)) throws(TransportError) {
        func invalid(_ why: String) -> TransportError {
            TransportError(.endpoint, "invalid endpoint '\(address)': \(why)")
        }
        let utf8 = Array(address.utf8)
        let marker = Array("://".utf8)
        guard let at = (0..<max(0, utf8.count - 2)).first(where: { Array(utf8[$0..<$0 + 3]) == marker }) else {
            throw invalid("expected ipc:///path, inproc://name or tcp://host:port")
        }
        let scheme = String(decoding: utf8[..<at], as: UTF8.self)
        let rest = String(decoding: utf8[(at + 3)...], as: UTF8.self)
        guard let kind = MeshEndpoint.Kind(rawValue: scheme) else {
            throw invalid("unknown scheme '\(scheme)' (ipc, inproc or tcp)")
        }
        self.kind = kind
        switch kind {
        case .inproc:
            guard !rest.isEmpty else { throw invalid("empty inproc name") }
            self.location = rest
            self.port = nil
        case .ipc:
            guard !rest.isEmpty else { throw invalid("empty ipc path") }
            guard !rest.hasPrefix("@") else { throw invalid("abstract ipc names are not supported; use a path") }
            let suffix = max(suffixes.0.utf8.count, suffixes.1.utf8.count)
            let length = rest.utf8.count + suffix
            guard length <= MeshEndpoint.maxIPCPathLength else {
                throw invalid(
                    "the socket path is \(length) bytes with its '\(suffixes.0)'/'\(suffixes.1)' suffix, "
                        + "and a Unix socket path holds at most \(MeshEndpoint.maxIPCPathLength); use a shorter path"
                )
            }
            self.location = rest
            self.port = nil
        case .tcp:
            guard let colon = rest.lastIndex(of: ":") else { throw invalid("missing :PORT") }
            let host = String(rest[..<colon])
            let portText = String(rest[rest.index(after: colon)...])
            guard !host.isEmpty else { throw invalid("missing host") }
            if host.contains(":") && !(host.hasPrefix("[") && host.hasSuffix("]")) {
                throw invalid("an IPv6 host must be in brackets, as tcp://[::1]:5555")
            }
            guard !portText.isEmpty, portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let port = Int(portText)
            else { throw invalid("port '\(portText)' is not a number") }
            // The second endpoint is PORT+1, so the base port leaves room for it.
            guard port <= 65534 else { throw invalid("port \(port) leaves no room for PORT+1 (at most 65534)") }
            self.location = host
            self.port = port
        }
    }

    var description: String {
        switch self.kind {
        case .inproc, .ipc: "\(self.kind.rawValue)://\(self.location)"
        case .tcp: "tcp://\(self.location):\(self.port ?? 0)"
        }
    }

    /// One of the two socket endpoints. A tcp port 0 becomes libzmq's wildcard `*`.
    func derived(suffix: String, portOffset: Int) -> String {
        switch self.kind {
        case .inproc, .ipc:
            return "\(self.kind.rawValue)://\(self.location)\(suffix)"
        case .tcp:
            let port = self.port ?? 0
            return port == 0 ? "tcp://\(self.location):*" : "tcp://\(self.location):\(port + portOffset)"
        }
    }

    /// Refuses an ephemeral port where a peer must connect.
    func checkConnectable() throws(TransportError) {
        if self.kind == .tcp && self.port == 0 {
            throw TransportError(.endpoint, "cannot connect to '\(self)': port 0 can only be bound")
        }
    }

    /// Parses the port of a `tcp://host:port` that libzmq reports (ZMQ_LAST_ENDPOINT).
    static func port(ofBound endpoint: String) -> Int? {
        guard let colon = endpoint.lastIndex(of: ":") else { return nil }
        return Int(endpoint[endpoint.index(after: colon)...])
    }
}
