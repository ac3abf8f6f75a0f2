import Foundation
import Hummingbird
import Logging
import MeshCore
import MeshRuntime
import MeshStore
import NIOCore

typealias FieldName = HTTPFields.Element.Name

/// The oversight server's routes: the pages (GET), `/metrics`, and the gate decisions (POST).
struct OversightRoutes: Sendable {
    let server: OversightServer

    static let cookieName = "meshwork_token"
    static let maximumFormBytes = 64 << 10

    func register(on router: Router<BasicRequestContext>) {
        let site = self.server.site
        router.get("/") { request, _ in try await self.page(request) { site.meshPage() } }
        router.get("/usecases") { request, _ in try await self.page(request) { site.useCasesPage() } }
        router.get("/models") { request, _ in try await self.page(request) { site.modelsPage() } }
        router.get("/monitoring") { request, _ in try await self.page(request) { site.monitoringPage() } }
        router.get("/report") { request, _ in try await self.page(request) { site.reportPage() } }
        router.get("/approvals") { request, _ in
            let guardian = AccessGuard(token: self.server.token)
            let hasCookie = guardian.isToken(request.cookies[Self.cookieName]?.value)
            let decided = request.uri.queryParameters.get("decided")
            return try await self.page(request) {
                site.approvalsPage(
                    csrf: guardian.csrfToken(for:), askToken: !hasCookie,
                    notice: decided.map { "decision on \($0) sent to the oversight agent; the coordinator journals it with who and why" })
            }
        }
        router.get("/metrics") { _, _ in try await self.metrics() }
        router.post("/approvals/:id") { request, context in try await self.decide(request, context: context) }
    }

    /// A page, with the security headers; a GET carrying the right `?token=` sets the session
    /// cookie and redirects to the same path without it.
    func page(_ request: Request, _ render: @escaping @Sendable () -> String) async throws -> Response {
        if let token = request.uri.queryParameters.get("token") {
            guard AccessGuard(token: self.server.token).isToken(token) else {
                return Self.html(.forbidden, Self.message("forbidden: wrong token"))
            }
            var response = Response(status: .seeOther, headers: [.location: request.uri.path])
            response.setCookie(Cookie(name: Self.cookieName, value: token, path: "/", httpOnly: true, sameSite: .strict))
            return response
        }
        return Self.html(.ok, try await Self.offPool(render))
    }

    func metrics() async throws -> Response {
        let site = self.server.site
        let text: String = try await Self.offPool {
            guard let store = try site.openStore() else { return "# the run's database does not exist yet\n" }
            defer { try? store.close() }
            return try MetricsExposition.render(store: store, pendingGates: site.pendingGates().count)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// `POST /approvals/ID`: decide a waiting gate, through the oversight agent (``LiveGates``)
    /// whose result the coordinator journals with who, when and why.
    func decide(_ request: Request, context: BasicRequestContext) async throws -> Response {
        guard let gates = self.server.site.gates else {
            self.server.logger.warning(
                "refused a decision", metadata: ["mesh.gate": "\(context.parameters.get("id") ?? "")", "mesh.refusal": "readOnly"])
            return Self.html(.forbidden, Self.message("forbidden: this server shows a finished run read-only; nothing can be decided"))
        }
        let id = context.parameters.get("id") ?? ""
        let body = try await request.body.collect(upTo: Self.maximumFormBytes)
        let form = Self.parseForm(String(buffer: body))
        var guardian = AccessGuard(token: self.server.token)
        guardian.origins = self.server.allowedOrigins(host: request.head.authority)
        let token = request.headers[FieldName("X-Meshwork-Token")!] ?? form["token"] ?? request.cookies[Self.cookieName]?.value
        do throws(AccessGuard.Refusal) {
            try guardian.check(
                token: token, csrf: form["csrf"], action: OversightSite.action(for: id), origin: request.headers[.origin],
                referer: request.headers[.referer])
        } catch {
            self.server.logger.warning("refused a decision", metadata: ["mesh.gate": "\(id)", "mesh.refusal": "\(error.code.rawValue)"])
            return Self.html(.forbidden, Self.message(error.description))
        }
        let approve: Bool
        switch form["decision"] {
        case "approve": approve = true
        case "reject": approve = false
        default: return Self.html(.badRequest, Self.message("bad request: decision must be approve or reject"))
        }
        let who = (form["who"] ?? "").trimmingCharacters(in: .whitespaces)
        var reason = (form["reason"] ?? "").trimmingCharacters(in: .whitespaces)
        if reason.isEmpty {
            guard approve else { return Self.html(.badRequest, Self.message("bad request: a rejection needs a reason")) }
            reason = "approved"
        }
        do {
            try gates.decide(id, GateDecision(approved: approve, who: who.isEmpty ? "operator" : who, reason: reason))
        } catch {
            return Self.html(.notFound, Self.message("\(error)"))
        }
        self.server.logger.notice(
            "gate decided through the oversight page",
            metadata: ["mesh.gate": "\(id)", "mesh.decision": "\(approve ? "approve" : "reject")", "mesh.who": "\(who)"])
        let encoded = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: ".-_"))) ?? id
        return Response(status: .seeOther, headers: [.location: "/approvals?decided=\(encoded)"])
    }

    /// `application/x-www-form-urlencoded` into a dictionary (the first value of a repeated name).
    static func parseForm(_ text: String) -> [String: String] {
        var form: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(part)
            }
            let name = decode(parts[0])
            if form[name] == nil { form[name] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return form
    }

    static func message(_ text: String) -> String {
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>meshwork</title></head><body><p>"
            + HTML.escape(text) + "</p><p><a href=\"/approvals\">back to the approvals</a></p></body></html>"
    }

    static func html(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
                FieldName("X-Frame-Options")!: "DENY", FieldName("X-Content-Type-Options")!: "nosniff",
                FieldName("Referrer-Policy")!: "same-origin",
            ],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Runs blocking store reads on a thread of their own, off the cooperative pool.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}
