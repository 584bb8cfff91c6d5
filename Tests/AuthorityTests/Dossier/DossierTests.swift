import Foundation
import Testing

@testable import Authority

@Suite("Intake dossiers")
struct DossierTests {
    static let valid = """
        {
          "id": "4b3f2a5e-6c1d-4e8f-9a0b-1c2d3e4f5a6b",
          "procedure": "2.000633",
          "submittedAt": "2026-11-27T09:30:00.250+07:00",
          "channel": "online",
          "commune": "00004",
          "applicant": { "kind": "enterprise", "id": "0101234567", "name": "Công ty TNHH A" },
          "documents": ["application-form", "business-registration"],
          "facts": { "capitalVnd": 5000000000, "areaM2": 120.5, "nearSchool": false, "zone": "KCN Thăng Long" }
        }
        """

    private func decode(_ text: String) throws(IntakeError) -> Dossier {
        try Dossier.decode(json: Data(text.utf8))
    }

    private func error(_ text: String) -> String? {
        do {
            _ = try decode(text)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func decodesTheIntakeContract() throws {
        let dossier = try decode(Self.valid)
        #expect(dossier.procedure == "2.000633")
        #expect(dossier.channel == .online)
        #expect(dossier.applicant.kind == .enterprise)
        #expect(dossier.submittedAt == Date(timeIntervalSince1970: 1_795_746_600.25))
        #expect(dossier.facts["capitalVnd"] == .integer(5_000_000_000))
        #expect(dossier.facts["areaM2"] == .number(120.5))
        #expect(dossier.facts["nearSchool"] == .bool(false))
        #expect(dossier.facts["zone"] == .string("KCN Thăng Long"))
    }

    @Test func roundTripsThroughJSON() throws {
        let dossier = try decode(Self.valid)
        let again = try Dossier.decode(json: try JSONEncoder().encode(dossier))
        #expect(again == dossier)
    }

    @Test func namesTheFieldAndWhatIsWrong() {
        #expect(
            error(Self.valid.replacingOccurrences(of: "\"online\"", with: "\"fax\""))
                == "channel: expected one of online, counter, post; got \"fax\"")
        #expect(
            error(Self.valid.replacingOccurrences(of: "\"enterprise\"", with: "\"company\""))
                == "applicant.kind: expected one of citizen, household, enterprise, organisation; got \"company\"")
        #expect(
            error(Self.valid.replacingOccurrences(of: ", \"name\": \"Công ty TNHH A\"", with: ""))
                == "applicant.name: missing")
        #expect(
            error(Self.valid.replacingOccurrences(of: "+07:00\"", with: "\""))?.hasPrefix(
                "submittedAt: expected an ISO-8601 instant") == true)
        #expect(
            error(Self.valid.replacingOccurrences(of: "\"00004\"", with: "4"))?.hasPrefix("commune: expected a string")
                == true)
        #expect(
            error(Self.valid.replacingOccurrences(of: "\"00004\"", with: "\"4\""))
                == "commune: expected a 5-digit commune code")
        #expect(
            error(Self.valid.replacingOccurrences(of: "4b3f2a5e-", with: "x"))
                == "id: expected a UUID (8-4-4-4-12 hexadecimal digits)")
        #expect(
            error(Self.valid.replacingOccurrences(of: "\"areaM2\": 120.5", with: "\"areaM2\": null"))
                == "facts.areaM2: expected a string, number or boolean")
        #expect(
            error(Self.valid.replacingOccurrences(of: "\"business-registration\"", with: "\"Business Registration\""))
                == "documents[1]: expected a document-type id (lowercase kebab-case)")
        #expect(
            error(Self.valid.replacingOccurrences(of: "\"channel\"", with: "\"chanel\"")) == "chanel: unknown property")
        #expect(error("{\"id\": ") == "not valid JSON")
        #expect(error("[]")?.isEmpty == false)
    }

    @Test func agreesWithTheIntakeSchema() throws {
        let schemaText = try String(
            contentsOf: Fixture.realSchemas.appendingPathComponent("intake.schema.json"), encoding: .utf8)
        let schema = JSONSchema(file: "intake.schema.json", document: try YAMLNode.parse(schemaText))
        #expect(schema.problems.problems.isEmpty)
        let variants = [
            Self.valid,
            Self.valid.replacingOccurrences(of: "\"online\"", with: "\"fax\""),
            Self.valid.replacingOccurrences(of: "\"00004\"", with: "\"4\""),
            Self.valid.replacingOccurrences(of: "4b3f2a5e-", with: "x"),
            Self.valid.replacingOccurrences(of: "\"areaM2\": 120.5", with: "\"areaM2\": null"),
            Self.valid.replacingOccurrences(of: "\"channel\"", with: "\"chanel\""),
            Self.valid.replacingOccurrences(of: "\"2.000633\"", with: "\"2.633\""),
            Self.valid.replacingOccurrences(of: "\"Công ty TNHH A\"", with: "\"  \""),
        ]
        for text in variants {
            let bySchema = schema.validate(try YAMLNode.parse(text)).isEmpty
            let byDecoder = error(text) == nil
            #expect(bySchema == byDecoder, "\(text)")
        }
    }
}
