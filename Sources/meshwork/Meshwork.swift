import ArgumentParser

/// The `meshwork` command: one binary for every process of a mesh.
@main
struct Meshwork: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meshwork",
        abstract: "Run a mesh of AI agent processes over ZeroMQ: launch, supervise, replay, benchmark.",
        subcommands: [
            UpCommand.self, RunCommand.self, AgentCommand.self, CoordinatorCommand.self, TrainCommand.self,
            DoctorCommand.self, BenchCommand.self, BenchStageCommand.self, StatusCommand.self, StoreTortureCommand.self,
            StoreBenchCommand.self,
            ServeModelCommand.self, ReportCommand.self, GatesCommand.self, ApproveCommand.self, RejectCommand.self,
            BlobCommand.self, ReplayCommand.self, ServeCommand.self, KeysCommand.self,
        ]
    )
}
