import Foundation
import Testing

@testable import Authority

/// The catalogue's `fee` (issue 21): an amount in đồng and the applicant kinds exempt from it.
@Suite("Catalogue fees")
struct FeeLoadingTests {
    static let path = "catalog/procedures/industry-trade.yaml"

    static func withFee(_ fee: String) -> String {
        Fixture.industryTradeProcedures.replacingOccurrences(
            of: "    documents: [application-form, business-registration]\n",
            with: "    documents: [application-form, business-registration]\n    fee: \(fee)\n")
    }

    @Test("a fee loads with its exemptions; the fee due is zero for an exempt kind, a fee of 0 and no fee; an unverified amount is warned on")
    func feesLoad() throws {
        let bundle = try Fixture.load([
            Self.path: Self.withFee("{ amountVND: 1200000, exemptApplicantKinds: [household, citizen], legalBasis: \"TT 168/2016/TT-BTC\" }")
        ]).get()
        let tobacco = try #require(bundle.catalogue.procedure("2.000633"))
        #expect(tobacco.fee == Procedure.Fee(amountVND: 1_200_000, exemptApplicantKinds: [.household, .citizen], legalBasis: "TT 168/2016/TT-BTC"))
        #expect(tobacco.isFeeBearing)
        #expect(tobacco.feeDue(for: .enterprise) == 1_200_000)
        #expect(tobacco.feeDue(for: .household) == nil && tobacco.feeDue(for: .citizen) == nil)
        #expect(bundle.catalogue.procedure("2.000581")?.fee == nil)
        #expect(bundle.catalogue.procedure("2.000581")?.feeDue(for: .enterprise) == nil)
        #expect(bundle.warnings.contains { $0.message.contains("procedure 2.000633: fee of 1200000 đồng not verified") })
        let zero = try Fixture.load([Self.path: Self.withFee("{ amountVND: 0 }")]).get()
        #expect(zero.catalogue.procedure("2.000633")?.isFeeBearing == false)
        #expect(zero.catalogue.procedure("2.000633")?.feeDue(for: .enterprise) == nil)
        let verified = try Fixture.load([Self.path: Self.withFee("{ amountVND: 600000, amountVerified: true }")]).get()
        #expect(!verified.warnings.contains { $0.message.contains("fee of") })
    }

    @Test("a negative or fractional amount and an unknown applicant kind are refused with their line")
    func badFees() throws {
        for (fee, message) in [
            ("{ amountVND: -5 }", "amountVND"),
            ("{ amountVND: 1.5 }", "amountVND"),
            ("{ amountVND: 5000, exemptApplicantKinds: [veteran] }", "veteran"),
        ] {
            switch try Fixture.load([Self.path: Self.withFee(fee)]) {
            case .success:
                Issue.record("\(fee) was accepted")
            case .failure(let report):
                let line = Fixture.line(of: "fee:", in: Self.withFee(fee))
                #expect(report.errors.contains { $0.message.contains(message) && $0.line >= line }, "\(fee): \(report.errors)")
            }
        }
    }
}
