//! Noticing that a client went away while its request is still being computed.
//!
//! actix-web keeps polling a handler after the client closed the connection (it only finds out
//! when writing the answer), so a tile PostgreSQL is rendering for nobody would run to the end.
//! At connect time each TCP connection's socket is duplicated into the connection's data
//! ([`on_connect`]); a long database call races [`PeerSocket::closed`], which peeks at the socket
//! every 50 ms and resolves once the peer has closed it (a read of zero bytes), so the caller can
//! cancel the query.

use std::os::fd::AsFd as _;
use std::sync::Arc;
use std::time::Duration;

/// A duplicate of a client connection's socket, only ever peeked at.
#[derive(Debug, Clone)]
pub struct PeerSocket(Arc<std::net::TcpStream>);

/// `HttpServer::on_connect` hook: keeps a duplicate of each TCP connection's socket in its data.
pub fn on_connect(connection: &dyn std::any::Any, data: &mut actix_web::dev::Extensions) {
    if let Some(tcp) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() {
        // The duplicate shares the socket (and its non-blocking mode); it is dropped with the
        // connection's data, when actix drops the connection.
        if let Ok(fd) = tcp.as_fd().try_clone_to_owned() {
            data.insert(PeerSocket(Arc::new(std::net::TcpStream::from(fd))));
        }
    }
}

impl PeerSocket {
    /// The socket of the connection a request came on, when it is a TCP connection.
    pub fn of(req: &actix_web::HttpRequest) -> Option<PeerSocket> {
        req.conn_data::<PeerSocket>().cloned()
    }

    /// Resolves when the client has closed the connection; never otherwise.
    pub async fn closed(&self) {
        let mut byte = [0u8; 1];
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            match self.0.peek(&mut byte) {
                Ok(0) => return,
                Err(e) if e.kind() != std::io::ErrorKind::WouldBlock && e.kind() != std::io::ErrorKind::Interrupted => {
                    return
                }
                // Pipelined bytes waiting, or nothing to read yet: the client is still there.
                Ok(_) | Err(_) => {}
            }
        }
    }
}
