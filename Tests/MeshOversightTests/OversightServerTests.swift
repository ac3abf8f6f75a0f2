import Foundation
import MeshCore
import MeshOversight
import MeshRuntime
import MeshStore
import Testing

/// The oversight server over real HTTP on 127.0.0.1 (port 0), on a run directory with a real
/// store and a gate waiting as the oversight agent writes it; requests come from Python's urllib.
@Suite("Oversight server", .serialized)
struct OversightServerTests {
    /// A run directory with a store and one waiting gate; returns (directory, gate id).
    static func makeRun() throws -> (String, String) {
        let directory = try Support.temporaryDirectory()
        let store = try RunStore.create(at: directory, run: RunInfo(id: "test-run", scenario: "live", seed: 7))
        try store.close()
        let id = "uc.digits-classifier.gate-promotion"
        let request = GateRequest(
            useCase: "digits-classifier", gate: .promotion, evidence: ["p99 0.5 ms", "hold-out accuracy 97.5 %"],
            recommendation: true, seed: 7, policy: HumanPolicy(live: true))
        let pending: [String: Any] = [
            "id": id, "task": "uc/digits-classifier/gate-promotion",
            "request": try JSONSerialization.jsonObject(with: JSONEncoder().encode(request)),
        ]
        try FileManager.default.createDirectory(atPath: directory + "/gates", withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: pending).write(to: URL(fileURLWithPath: directory + "/gates/\(id).json"))
        return (directory, id)
    }

    @Test func aDecisionNeedsTheTokenAndTheServersOwnOrigin() async throws {
        let (directory, id) = try Self.makeRun()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = OversightServer(configuration: .init(runDirectory: directory, gatesDirectory: directory + "/gates"))
        let url = try await server.start()
        defer { Task { await server.stop() } }

        let page = try await Support.get(url + "/approvals")
        #expect(page.status == 200)
        #expect(page.body.contains("p99 0.5 ms") && page.body.contains("action=\"/approvals/\(id)\""), "\(page.body)")

        let noToken = try await Support.post(url, gate: id, ["--origin", url, "--who", "mallory", "--reason", "x"])
        #expect(noToken.status == 403 && noToken.body.contains("needs the token"), "\(noToken)")
        let wrongToken = try await Support.post(url, gate: id, ["--token", "nope", "--origin", url])
        #expect(wrongToken.status == 403 && wrongToken.body.contains("wrong token"), "\(wrongToken)")
        let forged = try await Support.post(url, gate: id, ["--token", server.token, "--origin", "http://evil.example"])
        #expect(forged.status == 403 && forged.body.contains("cross-origin"), "\(forged)")
        let noOrigin = try await Support.post(url, gate: id, ["--token", server.token])
        #expect(noOrigin.status == 403 && noOrigin.body.contains("no Origin"), "\(noOrigin)")
        let badCSRF = try await Support.post(url, gate: id, ["--token", server.token, "--origin", url, "--csrf", "00"])
        #expect(badCSRF.status == 403 && badCSRF.body.contains("CSRF"), "\(badCSRF)")
        let emptyReject = try await Support.post(
            url, gate: id, ["--token", server.token, "--origin", url, "--decision", "reject", "--reason", ""])
        #expect(emptyReject.status == 400 && emptyReject.body.contains("needs a reason"), "\(emptyReject)")
        // Nothing was decided by any of those.
        #expect(!FileManager.default.fileExists(atPath: directory + "/gates/\(id).decision.json"))

        let good = try await Support.post(
            url, gate: id, ["--token", server.token, "--origin", url, "--who", "alice", "--reason", "p99 fine", "--decision", "approve"])
        #expect(good.status == 303, "\(good)")
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/gates/\(id).decision.json"))
        let decision = try JSONDecoder().decode(GateDecision.self, from: data)
        #expect(decision == GateDecision(approved: true, who: "alice", reason: "p99 fine"))
        // A second decision on the same gate: it no longer waits.
        let again = try await Support.post(url, gate: id, ["--token", server.token, "--origin", url, "--csrf", AccessGuard(token: server.token).csrfToken(for: OversightSite.action(for: id))])
        #expect(again.status == 404 && again.body.contains("no gate"), "\(again)")
    }

    @Test func aFinishedRunIsReadOnlyAndEveryPageAnswers() async throws {
        let (directory, id) = try Self.makeRun()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = OversightServer(configuration: .init(runDirectory: directory, gatesDirectory: nil))
        let url = try await server.start()
        defer { Task { await server.stop() } }
        for path in ["/", "/usecases", "/approvals", "/models", "/monitoring", "/report", "/metrics"] {
            let page = try await Support.get(url + path)
            #expect(page.status == 200, "\(path): \(page.body.prefix(300))")
        }
        let approvals = try await Support.get(url + "/approvals")
        #expect(approvals.body.contains("read-only") && !approvals.body.contains("<form"))
        let refused = try await Support.post(
            url, gate: id, ["--token", server.token, "--origin", url, "--csrf", AccessGuard(token: server.token).csrfToken(for: OversightSite.action(for: id))])
        #expect(refused.status == 403 && refused.body.contains("read-only"), "\(refused)")
        let wrongToken = try await Support.get(url + "/?token=nope")
        #expect(wrongToken.status == 403)
    }

    @Test func aBadBindAddressIsAUsageError() {
        for text in ["127.0.0.1", "127.0.0.1:http", ":80", "127.0.0.1:70000"] {
            #expect(throws: RuntimeError.self) { _ = try OversightServer.Configuration.parseBind(text) }
        }
        let bind = try? OversightServer.Configuration.parseBind("0.0.0.0:9090")
        #expect(bind?.host == "0.0.0.0" && bind?.port == 9090)
    }
}
