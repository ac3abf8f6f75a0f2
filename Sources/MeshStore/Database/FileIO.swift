#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every raw file-system call of MeshStore, in one place (STYLE.md §2): retries on `EINTR`, reads
/// `errno` at once, and throws a ``StoreError`` naming the path and the reason.
enum FileIO {
    /// The store error for `errno` value `code` met while `doing` something with `path`.
    static func error(_ code: Int32, path: String, doing: String) -> StoreError {
        let text = String(cString: strerror(code))
        switch code {
        case EROFS, EACCES, EPERM:
            return StoreError(.readOnly, path: path, "\(doing): \(text)", nativeCode: code)
        case ENOSPC, EDQUOT:
            return StoreError(.diskFull, path: path, "\(doing): \(text)", nativeCode: code)
        case ENOENT:
            return StoreError(.missingArtifact, path: path, "\(doing): \(text)", nativeCode: code)
        default:
            return StoreError(.io, path: path, "\(doing): \(text)", nativeCode: code)
        }
    }

    /// Opens `path` with `flags`, retrying on EINTR.
    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644, doing: String) throws(StoreError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            let code = errno
            if code != EINTR { throw self.error(code, path: path, doing: doing) }
        }
    }

    /// Writes all of `bytes` to `fd`.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(StoreError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                let code = errno
                if code == EINTR { continue }
                throw self.error(code, path: path, doing: "cannot write")
            }
            offset += written
        }
    }

    /// Reads up to `count` bytes at `offset` (fewer only at the end of the file).
    static func read(_ fd: Int32, count: Int, at offset: Int64, path: String) throws(StoreError) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = result.withUnsafeMutableBytes { buffer in
                pread(fd, buffer.baseAddress! + filled, count - filled, off_t(offset) + off_t(filled))
            }
            if got < 0 {
                let code = errno
                if code == EINTR { continue }
                throw self.error(code, path: path, doing: "cannot read")
            }
            if got == 0 { break }
            filled += got
        }
        result.removeLast(count - filled)
        return result
    }

    /// Flushes `fd` to stable storage.
    static func sync(_ fd: Int32, path: String) throws(StoreError) {
        while fsync(fd) != 0 {
            let code = errno
            if code != EINTR { throw self.error(code, path: path, doing: "cannot fsync") }
        }
    }

    /// Flushes a directory's entries (after a rename into it), so the new name survives a crash.
    static func syncDirectory(_ path: String) throws(StoreError) {
        let fd = try self.open(path, O_RDONLY | O_DIRECTORY, doing: "cannot open the directory")
        defer { Glibc.close(fd) }
        try self.sync(fd, path: path)
    }

    /// Renames atomically.
    static func rename(_ from: String, to: String) throws(StoreError) {
        if Glibc.rename(from, to) != 0 {
            throw self.error(errno, path: to, doing: "cannot rename \(from) into place")
        }
    }

    /// Creates a directory and its parents (like `mkdir -p`).
    static func makeDirectories(_ path: String) throws(StoreError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0 {
                let code = errno
                if code == EEXIST, self.isDirectory(prefix) { continue }
                throw self.error(code, path: prefix, doing: "cannot create the directory")
            }
        }
    }

    /// The size of a regular file, or nil when there is none.
    static func fileSize(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(info.st_size)
    }

    /// Whether `path` is a directory.
    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Removes a file, ignoring errors (cleanup of a temporary file).
    static func removeQuietly(_ path: String) {
        _ = unlink(path)
    }

    /// Takes an exclusive, non-blocking `flock` on `path` (created if missing) and writes `text`
    /// into it; returns the descriptor, which holds the lock until closed or the process dies.
    /// Throws ``StoreError/Code/busy`` with the holder's text when another process has it.
    static func lockExclusively(_ path: String, text: String) throws(StoreError) -> Int32 {
        let fd = try self.open(path, O_RDWR | O_CREAT, doing: "cannot create the writer lock")
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            let holder = (try? self.read(fd, count: 256, at: 0, path: path)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            Glibc.close(fd)
            if code == EWOULDBLOCK {
                throw StoreError(
                    .busy, path: path,
                    "another process is writing this run (\(holder.trimmingSpaces)); a run has one writer", nativeCode: code)
            }
            throw self.error(code, path: path, doing: "cannot lock")
        }
        _ = ftruncate(fd, 0)
        Array(text.utf8).withUnsafeBytes { _ = pwrite(fd, $0.baseAddress, $0.count, 0) }
        return fd
    }

    /// Closes a descriptor.
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// This process's id.
    static var processID: Int32 { getpid() }

    /// This host's name.
    static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether a process with `pid` exists on this host.
    static func processExists(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}

extension String {
    var trimmingSpaces: String {
        String(self.drop { $0 == " " || $0 == "\n" }.reversed().drop { $0 == " " || $0 == "\n" }.reversed())
    }
}

extension FileIO {
    /// Whether another process holds an exclusive `flock` on `path` (the run's writer lock);
    /// false when the file is missing or the lock is free.
    static func isLockedByAnother(_ path: String) -> Bool {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            _ = flock(fd, LOCK_UN)
            return false
        }
        return errno == EWOULDBLOCK
    }
}

extension FileIO {
    /// Throws ``StoreError/Code/readOnly`` (or the matching error) unless `path` can be written.
    static func requireWritable(_ path: String) throws(StoreError) {
        if access(path, W_OK) != 0 {
            throw self.error(errno, path: path, doing: "cannot write")
        }
    }

    /// Whether `path` can be written.
    static func isWritable(_ path: String) -> Bool {
        access(path, W_OK) == 0
    }
}
