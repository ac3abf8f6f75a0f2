import Crypto
import Foundation

/// Who may change state through the oversight server: a request must carry the token printed
/// at start (header, form field or the cookie a visit with `?token=` sets), a per-form CSRF
/// token derived from it, and an `Origin` (or, without one, a `Referer`) that is the server's
/// own origin. Pure: the server feeds it what the request carried.
///
/// ```swift
/// let guard = AccessGuard(token: AccessGuard.makeToken(), origins: ["http://127.0.0.1:8080"])
/// let csrf = guard.csrfToken(for: "decide:uc.x.gate-promotion")    // goes in the form
/// try guard.check(token: form["token"], csrf: form["csrf"], action: "decide:uc.x.gate-promotion",
///                 origin: headers["Origin"], referer: headers["Referer"])
/// ```
public struct AccessGuard: Sendable {
    /// Why a state-changing request was refused; ``description`` is the message the 403 carries.
    public struct Refusal: Error, Equatable, Sendable, CustomStringConvertible {
        /// What was wrong.
        public enum Code: String, Sendable {
            /// No token, or the wrong one.
            case token
            /// No CSRF token, or one not made for this form.
            case csrf
            /// The request came from another origin, or said nothing of its origin.
            case origin
            /// The server shows a finished run and changes nothing.
            case readOnly
        }

        /// What was wrong.
        public var code: Code
        /// The one-line explanation.
        public var description: String
    }

    /// The secret printed at start.
    public let token: String
    /// The origins the server answers as (`http://HOST:PORT`), set once it is bound.
    public var origins: [String]

    /// A guard for `token`; ``origins`` may be set once the server knows its port.
    public init(token: String, origins: [String] = []) {
        self.token = token
        self.origins = origins
    }

    /// A fresh random token: 32 bytes from the system's generator, as hex.
    public static func makeToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// The CSRF token of one form (`action` names it, such as `decide:<gate id>`): an HMAC of the
    /// action keyed by the token, so only a page the server rendered can hold it.
    public func csrfToken(for action: String) -> String {
        let key = SymmetricKey(data: Data(self.token.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Data(("csrf:" + action).utf8), using: key)
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `candidate` is the token (compared in constant time).
    public func isToken(_ candidate: String?) -> Bool {
        guard let candidate else { return false }
        return Self.constantTimeEqual(candidate, self.token)
    }

    /// Checks a state-changing request; throws the ``Refusal`` to answer with 403.
    public func check(token: String?, csrf: String?, action: String, origin: String?, referer: String?) throws(Refusal) {
        guard self.isToken(token) else {
            throw Refusal(
                code: .token,
                description: token == nil || token == ""
                    ? "forbidden: this request changes state and needs the token printed when the server started"
                    : "forbidden: wrong token")
        }
        guard let csrf, Self.constantTimeEqual(csrf, self.csrfToken(for: action)) else {
            throw Refusal(code: .csrf, description: "forbidden: missing or wrong CSRF token for this form; reload the page and try again")
        }
        if let origin, origin != "" {
            guard self.origins.contains(origin) else {
                throw Refusal(code: .origin, description: "forbidden: cross-origin request from \(origin)")
            }
        } else if let referer, referer != "" {
            guard self.origins.contains(where: { referer == $0 || referer.hasPrefix($0 + "/") }) else {
                throw Refusal(code: .origin, description: "forbidden: cross-origin request (Referer \(referer))")
            }
        } else {
            throw Refusal(code: .origin, description: "forbidden: the request names no Origin or Referer")
        }
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
