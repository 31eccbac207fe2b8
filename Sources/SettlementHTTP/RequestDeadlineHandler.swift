import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request body does not arrive in full within a deadline.
///
/// The connection idle timeout (Hummingbird's `HTTP1Channel` `idleTimeout`) closes connections
/// that send nothing, or that never finish their headers: it counts activity by whole request
/// parts. A client that finishes its headers and then trickles the body a byte at a time is
/// active forever by that measure, and holds a connection, a task and a body buffer while
/// it does. This handler starts a clock at each request head and closes the channel if the end
/// of that request has not arrived when it runs out (as nginx's `client_body_timeout` does).
/// The clock stops at the request's end, so a handler that takes long to answer (waiting for
/// settlement) is never cut off.
final class RequestDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    let deadline: TimeAmount
    private var timer: Scheduled<Void>?

    init(deadline: TimeAmount) { self.deadline = deadline }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            timer?.cancel()
            let channel = context.channel
            timer = context.eventLoop.scheduleTask(in: deadline) { channel.close(promise: nil) }
        case .end:
            timer?.cancel()
            timer = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }
}

extension SettlementAPI {
    /// Limits on connections that the server applies (`zksettle-server --idle-timeout`,
    /// `--body-timeout`): HTTP/1.1 with an idle timeout and a request-body deadline.
    public static func http1Server(idleTimeout: TimeAmount, bodyTimeout: TimeAmount) -> HTTPServerBuilder {
        .http1(configuration: .init(additionalChannelHandlers: [RequestDeadlineHandler(deadline: bodyTimeout)],
                                    idleTimeout: idleTimeout))
    }

    /// At most `count` open connections; the listener stops accepting until one closes.
    public static func connectionLimit(_ count: Int) -> any AvailableConnectionsDelegate { MaximumAvailableConnections(count) }
}
