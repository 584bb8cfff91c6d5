/// Payment gateways: who may confirm that a dossier's fee was paid (issue 21).
extension OfficialRegistry {
    /// The registry department of payment gateways: a `service` principal registered under it is a payment gateway.
    public static let paymentsDepartment = "payments"

    /// Whether `principal` may confirm a payment made through `channel`: a registered payment gateway (a `service`
    /// of the `payments` department) for payments online (`national-portal`, `provincial-gateway`), a one-stop
    /// desk official for payments at the desk. The public portal's own service key is no payment gateway.
    public func mayConfirmPayment(_ principal: Principal, online: Bool) -> CommandRefusal? {
        if online {
            guard principal.role == .service, principal.department == Self.paymentsDepartment else {
                return .roleNotAllowed(
                    principal.role, "confirm an online payment (a registered payment gateway, a service of '\(Self.paymentsDepartment)', does)")
            }
            return nil
        }
        guard principal.role == .desk else {
            return .roleNotAllowed(principal.role, "confirm a payment at the desk (a one-stop desk official does)")
        }
        return nil
    }
}
