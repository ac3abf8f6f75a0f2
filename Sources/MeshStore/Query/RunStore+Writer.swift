extension RunStore {
    /// Whether another process holds the run's writer lock (its coordinator is alive).
    public var isBeingWritten: Bool { FileIO.isLockedByAnother(self.databasePath + "-writer") }
}
