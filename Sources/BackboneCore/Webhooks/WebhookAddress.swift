import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a webhook may be sent: an http(s) URL with a host whose every address is public.
/// Loopback, private (RFC 1918, fc00::/7), link-local (169.254/16, fe80::/10), unspecified,
/// multicast and CGNAT (100.64/10) addresses are refused unless private networks are
/// allowed, when an endpoint is created and again before each attempt (DNS can change).
public enum WebhookAddress {
    /// Why `url` may not receive webhooks, or `nil` when it may. Resolves the host (getaddrinfo).
    public static func refusal(_ url: String, allowPrivateNetworks: Bool) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https"
        else { return "must be an http or https URL" }
        guard var host = components.host, !host.isEmpty else { return "must name a host" }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard components.user == nil, components.password == nil else {
            return "must not carry a user name or password"
        }
        guard !allowPrivateNetworks else { return nil }
        let addresses: [[UInt8]]
        switch resolve(host) {
        case .failure(let message): return "host \(host) does not resolve (\(message))"
        case .success(let found): addresses = found
        }
        if let refused = addresses.first(where: { !isPublic($0) }) {
            return "host \(host) resolves to \(describe(refused)), which is not a public address"
        }
        return nil
    }

    /// `refusal`, with the host resolved on a thread of its own: getaddrinfo blocks, and the
    /// tasks' few shared threads must not wait for DNS.
    public static func refusalResolvingAside(_ url: String, allowPrivateNetworks: Bool) async -> String? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: refusal(url, allowPrivateNetworks: allowPrivateNetworks))
            }
        }
    }

    /// Whether an IPv4 (4 bytes) or IPv6 (16 bytes) address is public.
    public static func isPublic(_ address: [UInt8]) -> Bool {
        if address.count == 4 { return isPublicV4(address) }
        guard address.count == 16 else { return false }
        // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses: the IPv4 rules.
        if address[0..<10].allSatisfy({ $0 == 0 }) && address[10] == 0xff && address[11] == 0xff {
            return isPublicV4(Array(address[12...]))
        }
        if address[0..<15].allSatisfy({ $0 == 0 }) { return false }  // :: and ::1
        if address[0..<12].allSatisfy({ $0 == 0 }) { return isPublicV4(Array(address[12...])) }
        if address[0] & 0xfe == 0xfc { return false }  // fc00::/7, unique local
        if address[0] == 0xfe && address[1] & 0xc0 == 0x80 { return false }  // fe80::/10, link-local
        if address[0] == 0xfe && address[1] & 0xc0 == 0xc0 { return false }  // fec0::/10, site-local (deprecated)
        if address[0] == 0xff { return false }  // ff00::/8, multicast
        if address[0] == 0x00 && address[1] == 0x64 && address[2] == 0xff && address[3] == 0x9b {
            return isPublicV4(Array(address[12...]))  // 64:ff9b::/96, NAT64
        }
        return true
    }

    private static func isPublicV4(_ a: [UInt8]) -> Bool {
        switch (a[0], a[1]) {
        case (0, _): return false  // 0/8, unspecified and "this network"
        case (10, _): return false  // 10/8
        case (127, _): return false  // loopback
        case (169, 254): return false  // link-local (cloud metadata)
        case (172, 16...31): return false  // 172.16/12
        case (192, 168): return false  // 192.168/16
        case (100, 64...127): return false  // 100.64/10, CGNAT
        case (192, 0) where a[2] == 0: return false  // 192.0.0/24, protocol assignments
        case (198, 18...19): return false  // benchmarking
        case (224...255, _): return false  // multicast, reserved, broadcast
        default: return true
        }
    }

    private static func describe(_ address: [UInt8]) -> String {
        if address.count == 4 { return address.map(String.init).joined(separator: ".") }
        var groups: [String] = []
        for index in stride(from: 0, to: 16, by: 2) {
            groups.append(String(UInt16(address[index]) << 8 | UInt16(address[index + 1]), radix: 16))
        }
        return groups.joined(separator: ":")
    }

    private enum Resolution {
        case success([[UInt8]])
        case failure(String)
    }

    /// Every address `host` resolves to (a literal address is itself).
    private static func resolve(_ host: String) -> Resolution {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0, let first = list else {
            return .failure(String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(first) }
        var addresses: [[UInt8]] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let current = node {
            if let socketAddress = current.pointee.ai_addr {
                switch Int32(current.pointee.ai_family) {
                case AF_INET:
                    socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                        var address = pointer.pointee.sin_addr
                        addresses.append(withUnsafeBytes(of: &address) { Array($0) })
                    }
                case AF_INET6:
                    socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                        var address = pointer.pointee.sin6_addr
                        addresses.append(withUnsafeBytes(of: &address) { Array($0) })
                    }
                default: break
                }
            }
            node = current.pointee.ai_next
        }
        return addresses.isEmpty ? .failure("no addresses") : .success(addresses)
    }
}
