import MeshOversight
import Testing

@Suite("Oversight access guard")
struct AccessGuardTests {
    let guardian = AccessGuard(token: "secret-token", origins: ["http://127.0.0.1:8080"])
    var csrf: String { self.guardian.csrfToken(for: "decide:gate-1") }

    @Test func aRequestWithTheTokenTheFormsCSRFTokenAndItsOwnOriginPasses() throws {
        try self.guardian.check(token: "secret-token", csrf: self.csrf, action: "decide:gate-1", origin: "http://127.0.0.1:8080", referer: nil)
        try self.guardian.check(
            token: "secret-token", csrf: self.csrf, action: "decide:gate-1", origin: nil, referer: "http://127.0.0.1:8080/approvals")
    }

    @Test func noTokenOrAWrongOneIsRefused() {
        for token in [nil, "", "secret-tokem"] {
            #expect(throws: AccessGuard.Refusal.self) {
                try self.guardian.check(token: token, csrf: self.csrf, action: "decide:gate-1", origin: "http://127.0.0.1:8080", referer: nil)
            }
            do {
                try self.guardian.check(token: token, csrf: self.csrf, action: "decide:gate-1", origin: "http://127.0.0.1:8080", referer: nil)
            } catch {
                #expect(error.code == .token)
                #expect(error.description.contains("token"))
            }
        }
    }

    @Test func aCSRFTokenMadeForAnotherFormOrAnotherServerIsRefused() {
        let other = AccessGuard(token: "another-token").csrfToken(for: "decide:gate-1")
        for csrf in [nil, "", self.guardian.csrfToken(for: "decide:gate-2"), other] {
            do {
                try self.guardian.check(token: "secret-token", csrf: csrf, action: "decide:gate-1", origin: "http://127.0.0.1:8080", referer: nil)
                Issue.record("accepted csrf \(String(describing: csrf))")
            } catch {
                #expect(error.code == .csrf)
            }
        }
    }

    @Test func aForgedOriginOrNoOriginIsRefused() {
        let cases: [(String?, String?)] = [
            ("http://evil.example", nil), ("http://127.0.0.1:8081", nil), ("null", nil),
            (nil, "http://evil.example/approvals"), (nil, "http://127.0.0.1:8080.evil.example/"), (nil, nil),
        ]
        for (origin, referer) in cases {
            do {
                try self.guardian.check(token: "secret-token", csrf: self.csrf, action: "decide:gate-1", origin: origin, referer: referer)
                Issue.record("accepted origin \(String(describing: origin)) referer \(String(describing: referer))")
            } catch {
                #expect(error.code == .origin)
                #expect(error.description.hasPrefix("forbidden"))
            }
        }
    }

    @Test func tokensAreFreshAndLong() {
        let a = AccessGuard.makeToken()
        let b = AccessGuard.makeToken()
        #expect(a != b && a.count == 64 && b.count == 64)
    }
}
