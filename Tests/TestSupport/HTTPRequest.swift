import Foundation

/// An HTTP response read by ``httpRequest(port:path:headers:timeout:)``.
public struct HTTPResult: Sendable {
    public var status: Int
    /// Header names lowercased.
    public var headers: [String: String]
    public var body: String
}

/// A plain HTTP/1.0 GET to 127.0.0.1 with request headers (for content negotiation); like ``httpGet(port:path:timeout:)``
/// it needs no FoundationNetworking.
public func httpRequest(
    port: Int, path: String, method: String = "GET", headers: [String: String] = [:], body: String? = nil,
    timeout: TimeInterval = 10
) throws -> HTTPResult {
    struct HTTPError: Error, CustomStringConvertible { var description: String }
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HTTPError(description: "socket() failed") }
    defer { close(fd) }
    var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw HTTPError(description: "cannot connect to 127.0.0.1:\(port)") }
    var head = "\(method) \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    for (name, value) in headers { head += "\(name): \(value)\r\n" }
    if let body { head += "Content-Length: \(body.utf8.count)\r\n" }
    let request = Array((head + "\r\n" + (body ?? "")).utf8)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    // Until the server closes, or the body announced by Content-Length is complete (a server may keep the
    // connection open despite HTTP/1.0 and `Connection: close`).
    while true {
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count <= 0 { break }
        response.append(contentsOf: buffer[0..<count])
        if let expected = completeLength(response), response.count >= expected { break }
    }
    let text = String(decoding: response, as: UTF8.self)
    guard let split = text.range(of: "\r\n\r\n") else {
        throw HTTPError(description: "no HTTP response from 127.0.0.1:\(port)\(path)")
    }
    let lines = text[..<split.lowerBound].split(separator: "\r\n")
    guard let statusLine = lines.first, statusLine.split(separator: " ").count >= 2,
        let status = Int(statusLine.split(separator: " ")[1])
    else { throw HTTPError(description: "no HTTP status line from 127.0.0.1:\(port)\(path)") }
    var fields: [String: String] = [:]
    for line in lines.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return HTTPResult(status: status, headers: fields, body: String(text[split.upperBound...]))
}

/// Header length plus Content-Length, once the header is in.
private func completeLength(_ response: [UInt8]) -> Int? {
    let separator: [UInt8] = [13, 10, 13, 10]
    guard response.count >= 4,
        let end = (0...(response.count - 4)).first(where: { Array(response[$0..<($0 + 4)]) == separator })
    else { return nil }
    let head = String(decoding: response[0..<end], as: UTF8.self).lowercased()
    for line in head.split(separator: "\r\n") where line.hasPrefix("content-length:") {
        if let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) {
            return end + 4 + length
        }
    }
    return nil
}
