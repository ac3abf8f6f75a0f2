import Testing

@testable import MeshServer

@Suite struct InferenceServerPlaceholderTests {
    @Test func placeholder() {}
}
