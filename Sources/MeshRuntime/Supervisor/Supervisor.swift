import Foundation
@preconcurrency import Glibc
public import Logging
public import MeshAgents
public import MeshCore
import MeshStore
import Subprocess
import SystemPackage
import UnixSignals

/// `meshwork up`: starts the coordinator and one process per agent, supervises them (restarting a
/// crashed agent within the restart intensity), injects the scenario's faults, prints progress,
/// and shuts everything down cleanly at the end or on Ctrl-C/SIGTERM.
///
/// ```swift
/// let supervisor = Supervisor(scenario: scenario, scenarioPath: path, run: run, endpoint: endpoint, logger: logger)
/// let summary = try await supervisor.run()
/// ```
public actor Supervisor {
    /// How the supervisor reports while it works.
    public struct Options: Sendable {
        /// Print progress lines on stderr.
        public var showProgress = true
        /// How long the coordinator has to bind the mesh.
        public var readyTimeout: Duration = .seconds(20)
        /// How long agents have to exit after SIGTERM before SIGKILL.
        public var stopTimeout: Duration = .seconds(5)
        /// Start the coordinator from the run directory's journal (`meshwork up --resume`).
        public var resume = false
        /// Keep the mesh up after the workflow finished: this is called with the summary and the
        /// agents' services, then the mesh stays up until SIGINT/SIGTERM (`meshwork up --hold`).
        public var hold: (@Sendable (RunSummary, [String: String]) -> Void)?
        /// Spread the processes over hosts (`meshwork up --hosts FILE`): each is started with its
        /// host's launch prefix, the coordinator binds on its host's address. Over tcp (with or
        /// without hosts) the supervisor makes every process's CURVE key and the roster in
        /// `runs/<id>/keys/`.
        public var hosts: HostsFile?

        public init() {}
    }

    let scenario: Scenario
    let scenarioPath: String
    let run: RunDirectory
    let endpoint: String
    let executable: String
    let options: Options
    let logger: Logger

    var budget: RestartBudget
    var restarts = 0
    var coordinatorPID: Int32?
    var agentPIDs: [AgentID: Int32] = [:]
    var paused: Set<Int32> = []
    var shuttingDown = false
    var failure: RuntimeError?
    var report: RunReport?
    var progress: RunProgress?
    var boundEndpoint: String?
    var holding = false
    /// With hosts: the directory of every process's key and the roster (docs/MULTI-HOST.md).
    var keys: String?
    var holdWaiters: [CheckedContinuation<Void, Never>] = []
    var workflowStarted: ContinuousClock.Instant?
    var workflowEnded: ContinuousClock.Instant?
    var readyWaiters: [CheckedContinuation<Void, Never>] = []
    var startWaiters: [CheckedContinuation<Void, Never>] = []
    var endWaiters: [CheckedContinuation<Void, Never>] = []
    let physicalClock = SystemClock()
    var runStarted: ContinuousClock.Instant?
    var peakResident: [String: Int] = [:]
    var peakPrivate: [String: Int] = [:]

    /// What `meshwork bench` reads after ``run()``.
    public struct Measurements: Sendable, Equatable {
        /// Seconds from starting the coordinator to the workflow's start, when every expected
        /// agent had joined (0 when it never started).
        public var startupSeconds: Double
        /// Each process's peak resident memory (`VmHWM`) in kB, by name (`coordinator` or the
        /// agent's id), sampled every 100 ms while the workflow ran.
        public var peakResidentKilobytes: [String: Int]
        /// Each process's largest anonymous resident memory (`RssAnon`: heap and stacks, without the
        /// file pages of the binary and libraries that all processes share) seen in the same samples, in kB.
        public var peakPrivateKilobytes: [String: Int] = [:]
    }

    /// Start-up time and peak memory per process of the last ``run()``.
    public var measurements: Measurements {
        Measurements(
            startupSeconds: self.seconds(from: self.runStarted, to: self.workflowStarted),
            peakResidentKilobytes: self.peakResident, peakPrivateKilobytes: self.peakPrivate)
    }

    /// Makes a supervisor for `scenario` (read from `scenarioPath`), writing into `run`.
    public init(
        scenario: Scenario,
        scenarioPath: String,
        run: RunDirectory,
        endpoint: String,
        options: Options = Options(),
        logger: Logger
    ) {
        self.scenario = scenario
        self.scenarioPath = scenarioPath
        self.run = run
        self.endpoint = endpoint
        self.executable = ProcessEnvironment.executablePath
        self.options = options
        self.logger = logger
        self.budget = RestartBudget(
            maxRestarts: scenario.supervisor.maxRestarts,
            window: .milliseconds(Int64(scenario.supervisor.withinSeconds * 1000)))
    }

    /// Runs the mesh to the end of the workflow and returns its summary.
    ///
    /// Throws ``RuntimeError`` when the coordinator does not come up, crashes, a process exceeds
    /// the restart intensity, or the user interrupts; every child is stopped before it returns.
    public func run() async throws -> RunSummary {
        let start = ContinuousClock.now
        self.runStarted = start
        if self.options.hosts != nil || self.endpoint.hasPrefix("tcp://") {
            // tcp is never plaintext: every process gets a key, the coordinator the roster of all.
            self.keys = self.run.path + "/keys"
            _ = try MeshKeys.provision(agents: self.scenario.agentIDs, directory: self.keys!)
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.superviseCoordinator() }
            group.addTask { await self.watchSignals() }
            if self.options.showProgress { group.addTask { await self.showProgress() } }
            group.addTask { await self.watchMemory() }
            await self.waitForReady()
            if self.failure == nil, !self.shuttingDown {
                for (id, role) in self.scenario.agentIDs {
                    // A slow joiner starts late; the workflow waits for it (the roster expects it).
                    let late = self.scenario.faults.filter { $0.action == .slowJoin && $0.targets(id) }.compactMap(\.duration).max()
                    group.addTask {
                        if let late {
                            await self.note("fault: \(id) starts \(late) s late")
                            try? await Task.sleep(for: .milliseconds(Int64(late * 1000)))
                            guard await !self.shuttingDown else { return }
                        }
                        await self.superviseAgent(id, role: role)
                    }
                }
                // Network faults are the coordinator's transport's (NetworkFaults); kills and pauses are ours.
                for (index, fault) in self.scenario.faults.enumerated() where fault.action == .kill || fault.action == .pause {
                    group.addTask { await self.inject(fault, index: index) }
                }
            }
            await self.waitForEnd()
            self.samplePeakMemory()
            if let hold = self.options.hold, self.failure == nil {
                do {
                    hold(try self.summary(start: start), self.progress?.services ?? [:])
                    await self.waitForSignal()
                } catch {
                    self.fail(error as? RuntimeError ?? RuntimeError(.process, "cannot summarize the run: \(error)"))
                }
            }
            await self.stopEverything()
            group.cancelAll()
        }
        if let failure = self.failure { throw failure }
        return try self.summary(start: start)
    }

    private func summary(start: ContinuousClock.Instant) throws -> RunSummary {
        guard let report = self.report else { throw RuntimeError(.process, "the coordinator ended without a report") }
        let store = try RunStore.openReadOnly(run: self.run)
        defer { try? store.close() }
        let workflowSeconds = self.seconds(from: self.workflowStarted, to: self.workflowEnded)
        return try RunSummary.make(
            scenario: self.scenario, report: report, store: store, restarts: self.restarts,
            wallSeconds: self.seconds(from: start, to: ContinuousClock.now), workflowSeconds: workflowSeconds,
            run: self.run, mode: "processes")
    }

    private func seconds(from start: ContinuousClock.Instant?, to end: ContinuousClock.Instant?) -> Double {
        guard let start, let end else { return 0 }
        let elapsed = end - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    // MARK: - The coordinator

    private func superviseCoordinator() async {
        var resume = self.options.resume
        while true {
            var arguments = [
                "coordinator", "--bind", self.boundEndpoint ?? self.endpoint, "--scenario", self.scenarioPath,
                "--run-dir", self.run.path,
            ]
            if let keys = self.keys {
                arguments += ["--secret-key", keys + "/coordinator.key", "--roster", keys + "/roster.yaml"]
            }
            if resume { arguments.append("--resume") }
            if self.options.hold != nil { arguments.append("--hold") }
            do {
                let log = try self.openLog("coordinator")
                let (program, line) = self.command(arguments, on: self.options.hosts?.coordinatorHost)
                let result = try await Subprocess.run(
                    program, arguments: Arguments(line), environment: .inherit,
                    input: .none, output: .sequence, error: .fileDescriptor(log, closeAfterSpawningProcess: true)
                ) { execution in
                    self.coordinatorStarted(pid: execution.processIdentifier.value)
                    // The REPORT line holds every use case's outcome: a fleet of 1,000 passes the
                    // default 128 KiB line limit (`meshwork bench --fleet 1000` failed on it).
                    for try await line in execution.standardOutput.strings(bufferingPolicy: .maxLineLength(64 << 20)) {
                        self.coordinatorSaid(line)
                    }
                }
                guard self.coordinatorExited(result.terminationStatus) else { return }
            } catch {
                self.fail(RuntimeError(.process, "cannot run the coordinator: \(error)"))
                return
            }
            resume = true
        }
    }

    private func coordinatorStarted(pid: Int32) {
        self.coordinatorPID = pid
    }

    private func coordinatorSaid(_ line: String) {
        if line.hasPrefix("READY ") {
            self.boundEndpoint = String(line.dropFirst(6))
            self.resumeAll(&self.readyWaiters)
        } else if line.hasPrefix("PROGRESS ") {
            guard let progress = try? ReportCodec.decode(RunProgress.self, line.dropFirst(9)) else { return }
            self.progress = progress
            if progress.started, self.workflowStarted == nil {
                self.workflowStarted = ContinuousClock.now
                self.resumeAll(&self.startWaiters)
            }
        } else if line.hasPrefix("REPORT ") {
            self.workflowEnded = ContinuousClock.now
            self.shuttingDown = true
            do {
                self.report = try ReportCodec.decode(RunReport.self, line.dropFirst(7))
            } catch {
                self.fail(RuntimeError(.process, "the coordinator's report is unreadable: \(error)"))
            }
            self.resumeAll(&self.endWaiters)
        }
    }

    /// Records the coordinator's exit; returns whether to start it again (resuming from the journal).
    private func coordinatorExited(_ status: TerminationStatus) -> Bool {
        self.coordinatorPID = nil
        defer {
            self.resumeAll(&self.readyWaiters)
            if self.failure != nil || self.report != nil { self.resumeAll(&self.endWaiters) }
        }
        guard self.report == nil, !self.shuttingDown else { return false }
        guard self.budget.requestRestart(at: self.physicalClock.now()) else {
            self.fail(RuntimeError(
                .restartIntensity,
                "the coordinator exited (\(status)) and the restart intensity is used up; "
                    + "resume later with `meshwork up --resume \(self.run.path)` (logs: \(self.run.logsPath))"))
            return false
        }
        self.restarts += 1
        self.note("the coordinator exited (\(status)); restarting it from the journal")
        return true
    }

    // MARK: - Agents

    private func superviseAgent(_ id: AgentID, role: Role) async {
        while true {
            let status: TerminationStatus
            do {
                let log = try self.openLog(id.rawValue)
                let arguments = [
                    "agent", "--role", role.rawValue, "--id", id.rawValue, "--connect", self.boundEndpoint ?? self.endpoint,
                    "--state", self.run.path + "/state/" + id.rawValue,
                ] + (self.keys.map { ["--secret-key", $0 + "/\(id.rawValue).key", "--server-key", $0 + "/coordinator.pub"] } ?? [])
                let host = self.options.hosts?.host(for: id, role: role)
                // The inference API listens on the host's own address, where agents of other hosts reach it.
                let variables = host.map { role == .pipeline ? ["MESHWORK_INFERENCE_HOST": $0.address] : [:] } ?? [:]
                let (program, line) = self.command(arguments, on: host, environment: variables)
                let result = try await Subprocess.run(
                    program, arguments: Arguments(line),
                    environment: ChildEnvironment.environment(for: role),
                    input: .none, output: .discarded, error: .fileDescriptor(log, closeAfterSpawningProcess: true)
                ) { execution in
                    self.agentStarted(id, pid: execution.processIdentifier.value)
                }
                status = result.terminationStatus
            } catch {
                self.fail(RuntimeError(.process, "cannot start agent \(id): \(error)"))
                return
            }
            guard self.agentExited(id, status: status) else { return }
        }
    }

    private func agentStarted(_ id: AgentID, pid: Int32) {
        self.agentPIDs[id] = pid
        if self.shuttingDown { ProcessEnvironment.send(SIGTERM, to: pid) }
    }

    /// Records an agent's exit; returns whether to start it again.
    private func agentExited(_ id: AgentID, status: TerminationStatus) -> Bool {
        if let pid = self.agentPIDs.removeValue(forKey: id) { self.paused.remove(pid) }
        // An agent exits 0 only when told to (the coordinator's shutdown, a signal): not a crash.
        guard !self.shuttingDown, !status.isSuccess else { return false }
        guard self.budget.requestRestart(at: self.physicalClock.now()) else {
            self.fail(RuntimeError(
                .restartIntensity,
                "agent \(id) exited (\(status)) and the restart intensity (\(self.scenario.supervisor.maxRestarts) in "
                    + "\(self.scenario.supervisor.withinSeconds) s) is used up; stopping the mesh (logs: \(self.run.logsPath))"))
            return false
        }
        self.restarts += 1
        self.note("\(id) exited (\(status)); restarting (\(self.budget.recentRestarts) in the last \(self.scenario.supervisor.withinSeconds) s)")
        return true
    }

    /// The program and arguments that run `meshwork arguments…`: here, or on `host` through its launch prefix.
    private func command(
        _ arguments: [String], on host: HostsFile.Host?, environment: [String: String] = [:]
    ) -> (Executable, [String]) {
        guard let host, let hosts = self.options.hosts else { return (.path(FilePath(self.executable)), arguments) }
        let line = hosts.commandLine(on: host, executable: self.executable, arguments: arguments, environment: environment)
        let program: Executable = line[0].contains("/") ? .path(FilePath(line[0])) : .name(line[0])
        return (program, Array(line.dropFirst()))
    }

    // MARK: - Faults

    private func inject(_ fault: FaultSpec, index: Int) async {
        await self.waitForWorkflowStart()
        if let hour = fault.atHour {
            // The simulated hour, as the coordinator's progress lines report it.
            let threshold = UInt64(hour * 3_600_000_000)
            while !self.shuttingDown, self.report == nil, (self.progress?.simTime.microseconds ?? 0) < threshold {
                do {
                    try await Task.sleep(for: .milliseconds(20))
                } catch {
                    return
                }
            }
        }
        var rng = SeededRandom(seed: self.scenario.seed, key: "fault/\(index)")
        var due = ContinuousClock.now + .milliseconds(Int64(fault.start * 1000))
        var count = 0
        while !self.shuttingDown, count < (fault.times ?? .max) {
            count += 1
            do {
                try await Task.sleep(until: due, clock: .continuous)
            } catch {
                return
            }
            guard !self.shuttingDown, self.report == nil else { return }
            var targets = self.agentPIDs.filter { fault.targets($0.key) }.sorted { $0.key < $1.key }
            if fault.target == "coordinator" {
                targets = self.coordinatorPID.map { [(AgentID.coordinator, $0)] } ?? []
            }
            if !targets.isEmpty {
                let (id, pid) = targets[Int(rng.next(below: UInt64(targets.count)))]
                switch fault.action {
                case .kill:
                    self.note("fault: SIGKILL \(id) (pid \(pid))")
                    ProcessEnvironment.send(SIGKILL, to: pid)
                case .pause:
                    let duration = fault.duration ?? 1
                    self.note("fault: SIGSTOP \(id) (pid \(pid)) for \(duration) s")
                    self.paused.insert(pid)
                    ProcessEnvironment.send(SIGSTOP, to: pid)
                    Task {
                        try? await Task.sleep(for: .milliseconds(Int64(duration * 1000)))
                        self.resume(pid)
                    }
                case .drop, .duplicate, .delay, .cut, .slowJoin:
                    break
                }
            }
            guard let every = fault.every else { return }
            due = due + .milliseconds(Int64(every * 1000))
        }
    }

    private func resume(_ pid: Int32) {
        guard self.paused.remove(pid) != nil else { return }
        ProcessEnvironment.send(SIGCONT, to: pid)
    }

    /// Samples the children's peak memory every 100 ms until the run ends (an agent's
    /// `/proc/<pid>/status` is gone once it exited, so the last reading before that counts).
    private func watchMemory() async {
        while !self.shuttingDown, self.report == nil {
            self.samplePeakMemory()
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Reads every live child's peak resident memory (`VmHWM` only grows: the latest reading is the peak so far).
    private func samplePeakMemory() {
        var processes = self.agentPIDs.map { ($0.key.rawValue, $0.value) }
        if let pid = self.coordinatorPID { processes.append(("coordinator", pid)) }
        for (name, pid) in processes {
            guard let memory = ProcessMemory.peakAndPrivateKilobytes(pid: pid) else { continue }
            self.peakResident[name] = max(memory.peak, self.peakResident[name] ?? 0)
            self.peakPrivate[name] = max(memory.private, self.peakPrivate[name] ?? 0)
        }
    }

    // MARK: - Stopping

    private func watchSignals() async {
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        for await signal in signals {
            if self.holding {
                self.holding = false
                self.resumeAll(&self.holdWaiters)
                continue
            }
            guard !self.shuttingDown else { continue }
            self.fail(RuntimeError(.process, "interrupted by \(signal); the mesh was stopped"))
            self.resumeAll(&self.readyWaiters)
            self.resumeAll(&self.endWaiters)
        }
    }

    private func stopEverything() async {
        self.shuttingDown = true
        for pid in self.paused { ProcessEnvironment.send(SIGCONT, to: pid) }
        self.paused.removeAll()
        for pid in self.agentPIDs.values { ProcessEnvironment.send(SIGTERM, to: pid) }
        await self.waitUntil(timeout: self.options.stopTimeout, agents: true, coordinator: false)
        for pid in self.agentPIDs.values { ProcessEnvironment.send(SIGKILL, to: pid) }
        if let pid = self.coordinatorPID { ProcessEnvironment.send(SIGTERM, to: pid) }
        await self.waitUntil(timeout: self.options.stopTimeout, agents: false, coordinator: true)
        if let pid = self.coordinatorPID { ProcessEnvironment.send(SIGKILL, to: pid) }
        await self.waitUntil(timeout: .seconds(2), agents: true, coordinator: true)
    }

    /// Waits, bounded, until the agents and/or the coordinator have exited.
    private func waitUntil(timeout: Duration, agents: Bool, coordinator: Bool) async {
        let deadline = ContinuousClock.now + timeout
        while (agents && !self.agentPIDs.isEmpty) || (coordinator && self.coordinatorPID != nil), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    private func fail(_ error: RuntimeError) {
        if self.failure == nil { self.failure = error }
        self.shuttingDown = true
        self.resumeAll(&self.endWaiters)
    }

    // MARK: - Waiting and progress

    private func waitForReady() async {
        guard self.boundEndpoint == nil, self.failure == nil else { return }
        let timeout = self.options.readyTimeout
        let timer = Task {
            try await Task.sleep(for: timeout)
            self.readyTimedOut()
        }
        await withCheckedContinuation { self.readyWaiters.append($0) }
        timer.cancel()
    }

    private func readyTimedOut() {
        guard self.boundEndpoint == nil else { return }
        self.fail(RuntimeError(.timeout, "the coordinator did not bind \(self.endpoint) within \(self.options.readyTimeout)"))
        self.resumeAll(&self.readyWaiters)
    }

    private func waitForWorkflowStart() async {
        guard self.workflowStarted == nil, !self.shuttingDown else { return }
        await withCheckedContinuation { self.startWaiters.append($0) }
    }

    /// Holds until SIGINT/SIGTERM.
    private func waitForSignal() async {
        self.holding = true
        await withCheckedContinuation { self.holdWaiters.append($0) }
    }

    private func waitForEnd() async {
        guard self.report == nil, !self.shuttingDown || self.failure == nil, self.failure == nil else { return }
        await withCheckedContinuation { self.endWaiters.append($0) }
    }

    private func resumeAll(_ waiters: inout [CheckedContinuation<Void, Never>]) {
        let pending = waiters
        waiters.removeAll()
        for waiter in pending { waiter.resume() }
        if self.shuttingDown {
            let starts = self.startWaiters
            self.startWaiters.removeAll()
            for waiter in starts { waiter.resume() }
        }
    }

    private func showProgress() async {
        let interactive = isatty(STDERR_FILENO) != 0
        let interval: Duration = interactive ? .milliseconds(250) : .seconds(1)
        var printed = false
        while self.report == nil, !self.shuttingDown {
            try? await Task.sleep(for: interval)
            guard let progress = self.progress, self.report == nil else { continue }
            let line = ProgressLine.format(
                scenario: self.scenario.name, progress: progress, expected: self.expectedHandoffs,
                processes: self.agentPIDs.count + (self.coordinatorPID == nil ? 0 : 1), restarts: self.restarts)
            if interactive {
                ProcessEnvironment.emitErrorFragment("\r\u{1B}[2K" + line)
                printed = true
            } else {
                ProcessEnvironment.emitError(line)
            }
        }
        if interactive, printed { ProcessEnvironment.emitErrorFragment("\r\u{1B}[2K") }
    }

    private var expectedHandoffs: Int? { self.scenario.expectedHandoffs }

    private func note(_ message: String) {
        if self.options.showProgress {
            ProcessEnvironment.emitError((isatty(STDERR_FILENO) != 0 ? "\r\u{1B}[2K" : "") + "supervisor: " + message)
        }
        self.logger.notice("\(message)")
    }

    private func openLog(_ name: String) throws -> FileDescriptor {
        try FileDescriptor.open(
            FilePath(self.run.logsPath + "/\(name).log"), .writeOnly, options: [.create, .append],
            permissions: [.ownerReadWrite, .groupRead, .otherRead])
    }
}

/// The progress line `up` and `run` print.
public enum ProgressLine {
    /// Formats one progress line.
    public static func format(scenario: String, progress: RunProgress, expected: Int?, processes: Int, restarts: Int) -> String {
        guard progress.started else {
            return "\(scenario): waiting for agents (\(progress.members) joined) · \(processes) processes"
        }
        let done: String
        if let expected {
            done = "\(progress.committedTasks)/\(expected) hand-offs (\(expected > 0 ? progress.committedTasks * 100 / expected : 100)%)"
        } else {
            done = "\(progress.committedTasks) hand-offs, \(progress.pendingTasks) in flight"
        }
        return "\(scenario): \(done) · sim \(SimClockText.format(progress.simTime)) · "
            + "\(processes) processes · \(restarts) restart\(restarts == 1 ? "" : "s")"
    }
}

/// Simulated time for people: seconds, minutes, hours or days.
public enum SimClockText {
    /// Formats `time` with a fitting unit.
    public static func format(_ time: SimTime) -> String {
        let seconds = Double(time.microseconds) / 1e6
        func round(_ value: Double) -> String { String((value * 100).rounded() / 100) }
        if seconds < 120 { return round(seconds) + " s" }
        if seconds < 7_200 { return round(seconds / 60) + " min" }
        if seconds < 172_800 { return round(seconds / 3_600) + " h" }
        return round(seconds / 86_400) + " d"
    }
}
