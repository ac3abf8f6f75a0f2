import Foundation
import Logging
import Synchronization
public import MeshCore

extension ZeroMQForwarder {
    /// Replaces a secured forwarder's server key pair and roster while it runs (key rotation,
    /// docs/MULTI-HOST.md): `meshwork coordinator` calls it when SIGHUP makes it read its key
    /// files again.
    ///
    /// A key added to the roster is admitted from its next handshake on. ZAP only runs at the
    /// handshake, and libzmq 4.3 has no call that closes one peer's connection of a bound socket,
    /// so when the update **revokes** a key (removes it, or gives it another id or role) or
    /// changes the server key pair, the device thread unbinds both sockets and binds them again
    /// at the same address: libzmq closes every connection accepted through the old binding
    /// (measured), every participant reconnects by itself and is authenticated again under the
    /// new roster, and a revoked key is refused. Until its connection is gone, a revoked key's
    /// messages are already refused, because every message is checked against the current roster.
    ///
    /// Returns once the device thread has applied the update (or the forwarder stopped). Throws
    /// `.security` when the forwarder was bound without security or the roster is empty.
    public func update(security: ForwarderSecurity) async throws(TransportError) {
        guard self.secured else {
            throw TransportError(
                .security, "the forwarder at '\(self.endpoint)' was bound without CURVE keys: nothing to update")
        }
        guard !security.roster.isEmpty else {
            throw TransportError(.security, "an empty roster admits nobody: the update is refused")
        }
        let done = Completion()
        self.core.pendingSecurity.withLock { $0.append((security, done)) }
        self.core.securityPending.store(true, ordering: .releasing)
        if self.core.finished.isDone { return }
        ZeroMQSystem.signal(self.core.wakeFD)
        await done.wait()
    }
}

extension ForwarderDevice {
    /// How long a rebind may retry while libzmq's I/O thread still holds the old listening socket.
    static let rebindAttempts = 500

    /// Applies the security updates queued by ``ZeroMQForwarder/update(security:)``.
    func applyPendingSecurity() throws(TransportError) {
        let pending = self.core.pendingSecurity.withLock { pending in
            // Cleared under the lock: an update queued after this sets it again.
            self.core.securityPending.store(false, ordering: .relaxed)
            defer { pending = [] }
            return pending
        }
        for (security, done) in pending {
            defer { done.signal() }
            guard let old = self.options.security else { continue }
            let revoked = old.roster.filter { key, peer in security.roster[key] != peer }
            let added = security.roster.keys.filter { old.roster[$0] == nil }
            let serverKeyChanged = security.keyPair != old.keyPair
            self.options.security = security
            self.core.securityUpdates.add(1, ordering: .relaxed)
            self.logger.notice(
                "security updated",
                metadata: [
                    "mesh.roster": "\(security.roster.count)", "mesh.added": "\(added.count)",
                    "mesh.revoked": "\(revoked.keys.sorted().joined(separator: ","))",
                    "mesh.serverKeyChanged": "\(serverKeyChanged)",
                ])
            guard serverKeyChanged || !revoked.isEmpty else { continue }
            if serverKeyChanged {
                for socket in [self.xsub, self.xpub] { try socket.set(.curveSecretKey, security.keyPair.secretKey) }
            }
            try self.rebind()
            self.core.connectionResets.add(1, ordering: .relaxed)
            self.logger.notice("dropped every connection: each authenticates again under the new roster")
        }
    }

    /// Unbinds both sockets (libzmq closes the connections they accepted) and binds them again at
    /// the same addresses, retrying while the old listening sockets are still being closed.
    private func rebind() throws(TransportError) {
        for (socket, address) in [(self.xsub, self.endpoint.xsubEndpoint), (self.xpub, self.endpoint.xpubEndpoint)] {
            socket.unbind(address)
            var attempt = 0
            while true {
                do {
                    try socket.bind(address)
                    break
                } catch where error.errno == EADDRINUSE && attempt < Self.rebindAttempts {
                    attempt += 1
                    usleep(10_000)
                }
            }
        }
    }
}
