import MeshCore
import MeshZeroMQ
import Testing

@Suite("Mesh endpoints")
struct MeshEndpointTests {
    @Test func ipcDerivesSuffixedPaths() throws {
        let endpoint = try MeshEndpoint("ipc:///tmp/mesh/x")
        #expect(endpoint.kind == .ipc)
        #expect(endpoint.xsubEndpoint == "ipc:///tmp/mesh/x.in")
        #expect(endpoint.xpubEndpoint == "ipc:///tmp/mesh/x.out")
        #expect(endpoint.description == "ipc:///tmp/mesh/x")
    }

    @Test func inprocDerivesSuffixedNames() throws {
        let endpoint = try MeshEndpoint("inproc://mesh")
        #expect(endpoint.xsubEndpoint == "inproc://mesh.in")
        #expect(endpoint.xpubEndpoint == "inproc://mesh.out")
    }

    @Test func tcpDerivesConsecutivePorts() throws {
        let endpoint = try MeshEndpoint("tcp://10.0.0.5:5555")
        #expect(endpoint.xsubEndpoint == "tcp://10.0.0.5:5555")
        #expect(endpoint.xpubEndpoint == "tcp://10.0.0.5:5556")
        #expect(endpoint.port == 5555)
        #expect(!endpoint.isEphemeral)
        let ipv6 = try MeshEndpoint("tcp://[::1]:7000")
        #expect(ipv6.xpubEndpoint == "tcp://[::1]:7001")
    }

    @Test func tcpPortZeroIsEphemeral() throws {
        let endpoint = try MeshEndpoint("tcp://127.0.0.1:0")
        #expect(endpoint.isEphemeral)
        #expect(endpoint.xsubEndpoint == "tcp://127.0.0.1:*")
    }

    @Test(arguments: [
        ("udp://host:1", "unknown scheme"),
        ("localhost:5555", "expected ipc"),
        ("inproc://", "empty inproc name"),
        ("ipc://", "empty ipc path"),
        ("tcp://host", "missing :PORT"),
        ("tcp://:5555", "missing host"),
        ("tcp://host:http", "not a number"),
        ("tcp://host:-1", "not a number"),
        ("tcp://host:65535", "no room for PORT+1"),
        ("tcp://::1:5555", "brackets"),
    ])
    func invalidAddressesAreRefusedWithTheReason(address: String, reason: String) {
        #expect {
            try MeshEndpoint(address)
        } throws: { error in
            guard let error = error as? TransportError else { return false }
            return error.code == .endpoint && error.reason.contains(address) && error.reason.contains(reason)
        }
    }

    @Test func ipcPathsLongerThanSunPathAreRefused() throws {
        // 103 bytes of path + ".out" = 107: the longest that fits.
        let fits = "/" + String(repeating: "p", count: 102)
        _ = try MeshEndpoint("ipc://\(fits)")
        let tooLong = fits + "q"
        #expect {
            try MeshEndpoint("ipc://\(tooLong)")
        } throws: { error in
            guard let error = error as? TransportError else { return false }
            return error.code == .endpoint && error.reason.contains("108 bytes") && error.reason.contains("107")
        }
    }
}
