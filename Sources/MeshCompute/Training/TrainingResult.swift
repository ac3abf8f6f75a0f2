/// A trained model and the history of its run.
public struct TrainingResult: Sendable, Hashable {
    /// The model after the last epoch.
    public var model: MLP
    /// One report per epoch.
    public var epochs: [EpochReport]

    /// The mean epoch time in milliseconds, the first epoch excluded when there are several
    /// (it pays for first-touch page faults and cold caches).
    public var meanEpochMilliseconds: Double {
        let timed = self.timedEpochs
        guard !timed.isEmpty else { return 0 }
        return timed.reduce(0) { $0 + $1.milliseconds } / Double(timed.count)
    }

    /// The median epoch wall time in milliseconds, first epoch excluded: robust to the odd epoch
    /// during which the process was preempted.
    public var medianEpochMilliseconds: Double {
        let sorted = self.timedEpochs.map(\.milliseconds).sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// The mean epoch CPU time of the training thread in milliseconds, first epoch excluded.
    public var meanEpochCPUMilliseconds: Double {
        let timed = self.timedEpochs
        guard !timed.isEmpty else { return 0 }
        return timed.reduce(0) { $0 + $1.cpuMilliseconds } / Double(timed.count)
    }

    private var timedEpochs: ArraySlice<EpochReport> {
        self.epochs.count > 1 ? self.epochs.dropFirst() : self.epochs[...]
    }
}
