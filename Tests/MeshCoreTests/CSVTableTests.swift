import MeshCore
import Testing

@Suite("CSVTable")
struct CSVTableTests {
    static func error(_ text: String, label: String = "label") -> DatasetError? {
        do {
            _ = try CSVTable.parse(text: text, source: "data.csv", labelColumn: label)
            return nil
        } catch {
            return error
        }
    }

    @Test func parsesFeaturesAndLabels() throws {
        let table = try CSVTable.parse(text: "a,b,label\n1,2.5,0\n-3,4e1,2\n", source: "t.csv")
        #expect(table.featureNames == ["a", "b"])
        #expect(table.rowCount == 2 && table.featureCount == 2)
        #expect(table.features == [1, 2.5, -3, 40])
        #expect(table.labels == [0, 2])
        #expect(table.classLabels == [0, 2])
        #expect(Array(table.row(1)) == [-3, 40])
    }

    @Test func theLabelColumnMayBeAnywhereAndNamed() throws {
        let table = try CSVTable.parse(
            text: "y, \"x1\" ,x2\r\n1,0.5,7\r\n\r\n0,1.5,8\r\n",
            source: "t",
            labelColumn: "y"
        )
        #expect(table.featureNames == ["x1", "x2"])
        #expect(table.features == [0.5, 7, 1.5, 8])
        #expect(table.labels == [1, 0])
        #expect(table.labelName == "y")
    }

    @Test func selectingRowsKeepsTheirOrder() throws {
        let table = try CSVTable.parse(text: "a,label\n1,0\n2,1\n3,0\n", source: "t")
        let picked = table.selecting(rows: [2, 0])
        #expect(picked.features == [3, 1])
        #expect(picked.labels == [0, 0])
    }

    @Test func aRaggedRowNamesFileLineAndColumn() {
        let short = Self.error("a,b,label\n1,2,0\n1,2\n")
        #expect(short?.code == .raggedRow)
        #expect(short?.line == 3)
        #expect(short?.column == 2)
        #expect(short?.description.hasPrefix("data.csv:3:2: ragged row") == true)
        let long = Self.error("a,b,label\n1,2,0,9\n")
        #expect(long?.code == .raggedRow)
        #expect(long?.line == 2 && long?.column == 4)
    }

    @Test func aNonNumericCellNamesItsPlace() {
        let error = Self.error("a,b,label\n1,2,0\n1,x7,1\n")
        #expect(error?.code == .nonNumericCell)
        #expect(error?.line == 3 && error?.column == 2)
        #expect(error?.description == "data.csv:3:2: not a number: \"x7\"")
        #expect(Self.error("a,b,label\n1,,0\n")?.code == .nonNumericCell)
        #expect(Self.error("a,b,label\n1,nan,0\n")?.code == .nonFiniteCell)
        #expect(Self.error("a,b,label\n1,inf,0\n")?.code == .nonFiniteCell)
    }

    @Test func labelsMustBeIntegers() {
        #expect(Self.error("a,label\n1,0.5\n")?.code == .invalidLabel)
        #expect(Self.error("a,label\n1,cat\n")?.code == .invalidLabel)
        #expect(try! CSVTable.parse(text: "a,label\n1,3.0\n", source: "t").labels == [3])
    }

    @Test func aMissingLabelColumnIsNamed() {
        let error = Self.error("a,b,c\n1,2,3\n")
        #expect(error?.code == .missingLabelColumn)
        #expect(error?.line == 1)
        #expect(error?.description.contains("\"label\"") == true)
        #expect(Self.error("a,a,label\n1,2,0\n")?.code == .duplicateColumn)
    }

    @Test(arguments: ["", "\n\n", "a,b,label\n", "a,b,label\n\n  \n"])
    func anEmptyDatasetIsAnError(text: String) {
        #expect(Self.error(text)?.code == .emptyDataset)
    }
}
