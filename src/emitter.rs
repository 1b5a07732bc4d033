//! Bytes → the X-Ray daemon: the daemon address and one connected, non-blocking UDP socket.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::str::FromStr;

use crate::error::BuildError;

/// Where the daemon listens: UDP for documents, TCP for sampling requests.
///
/// Parsed from `host:port` (both protocols) or `tcp:host:port udp:host:port` (either order).
/// Hosts may be IPv4, bracketed IPv6 (`[::1]:2000`) or names, which are resolved at parse time.
///
/// ```
/// let daemon: xray_bridge::DaemonAddress = "tcp:127.0.0.1:2001 udp:127.0.0.1:2002".parse()?;
/// assert_eq!(daemon.udp().port(), 2002);
/// assert_eq!(daemon.tcp().port(), 2001);
/// # Ok::<(), xray_bridge::BuildError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DaemonAddress {
    udp: SocketAddr,
    tcp: SocketAddr,
}

impl FromStr for DaemonAddress {
    type Err = BuildError;

    /// # Errors
    ///
    /// A [`BuildError`] of kind [`InvalidValue`](crate::BuildErrorKind::InvalidValue) when
    /// `value` is neither form, has no valid port, or a host name does not resolve.
    fn from_str(value: &str) -> Result<Self, BuildError> {
        Self::parse_from(value, "daemon address")
    }
}

impl DaemonAddress {
    /// Where documents are sent.
    pub fn udp(&self) -> SocketAddr {
        self.udp
    }

    /// Where sampling requests go.
    pub fn tcp(&self) -> SocketAddr {
        self.tcp
    }

    /// Parses `value`; `origin` names where it came from (an environment variable or a builder
    /// method) for the error message.
    pub(crate) fn parse_from(value: &str, origin: &'static str) -> Result<Self, BuildError> {
        let invalid = |reason: String| BuildError::invalid_value(origin, value, reason);
        let parts: Vec<&str> = value.split_whitespace().collect();
        match parts.as_slice() {
            [single] if !single.starts_with("tcp:") && !single.starts_with("udp:") => {
                let address = resolve(single).map_err(invalid)?;
                Ok(DaemonAddress {
                    udp: address,
                    tcp: address,
                })
            }
            [first, second] => {
                let (mut udp, mut tcp) = (None, None);
                for part in [first, second] {
                    if let Some(rest) = part.strip_prefix("udp:") {
                        udp = Some(resolve(rest).map_err(invalid)?);
                    } else if let Some(rest) = part.strip_prefix("tcp:") {
                        tcp = Some(resolve(rest).map_err(invalid)?);
                    }
                }
                match (udp, tcp) {
                    (Some(udp), Some(tcp)) => Ok(DaemonAddress { udp, tcp }),
                    _ => Err(invalid(
                        "the two-address form needs one \"udp:host:port\" and one \"tcp:host:port\"".into(),
                    )),
                }
            }
            _ => Err(invalid(
                "expected \"host:port\" or \"tcp:host:port udp:host:port\"".into(),
            )),
        }
    }
}

/// Resolves `host:port` to its first address.
fn resolve(host_port: &str) -> Result<SocketAddr, String> {
    if let Ok(address) = host_port.parse::<SocketAddr>() {
        return check_port(address);
    }
    let (host, port) = host_port
        .rsplit_once(':')
        .ok_or_else(|| format!("{host_port:?} has no port (expected host:port)"))?;
    if host.is_empty() {
        return Err(format!("{host_port:?} has no host"));
    }
    let port: u16 = port
        .parse()
        .map_err(|_| format!("{port:?} is not a port number"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let address = (host, port)
        .to_socket_addrs()
        .map_err(|err| format!("cannot resolve {host:?}: {err}"))?
        .next()
        .ok_or_else(|| format!("{host:?} resolves to no address"))?;
    check_port(address)
}

fn check_port(address: SocketAddr) -> Result<SocketAddr, String> {
    if address.port() == 0 {
        Err("port 0 cannot receive datagrams".into())
    } else {
        Ok(address)
    }
}

/// One UDP socket connected to the daemon. Sends never block: a full buffer is an error that
/// the caller counts.
#[derive(Debug)]
pub(crate) struct Emitter {
    socket: UdpSocket,
}

impl Emitter {
    /// Opens a non-blocking socket connected to `daemon`.
    pub(crate) fn connect(daemon: SocketAddr) -> Result<Self, BuildError> {
        let local: SocketAddr = match daemon {
            SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let socket = UdpSocket::bind(local).map_err(BuildError::socket)?;
        socket.connect(daemon).map_err(BuildError::socket)?;
        socket.set_nonblocking(true).map_err(BuildError::socket)?;
        Ok(Emitter { socket })
    }

    /// Sends one datagram.
    pub(crate) fn send(&self, datagram: &[u8]) -> Sent {
        match self.socket.send(datagram) {
            Ok(_) => Sent::Accepted {
                earlier_refused: false,
            },
            // On a connected UDP socket, an error here may be the network reporting that an
            // *earlier* datagram was refused (ICMP port or host unreachable); this one has not
            // been sent yet, so send it again.
            // When the second try fails the same way, the error was this datagram's own.
            Err(first) if is_refusal(&first) => match self.socket.send(datagram) {
                Ok(_) => Sent::Accepted {
                    earlier_refused: true,
                },
                Err(error) => Sent::Failed {
                    earlier_refused: error.kind() != first.kind(),
                    error,
                },
            },
            Err(error) => Sent::Failed {
                error,
                earlier_refused: false,
            },
        }
    }

    /// Whether the network has reported the last datagram refused (and clears that report).
    pub(crate) fn last_refused(&self) -> bool {
        matches!(self.socket.take_error(), Ok(Some(err)) if is_refusal(&err))
    }
}

/// An error a connected UDP socket reports for an earlier datagram.
fn is_refusal(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable
    )
}

/// What became of one datagram.
#[derive(Debug)]
pub(crate) enum Sent {
    /// The socket took it; `earlier_refused`: the network reported the previous one refused.
    Accepted {
        /// The previous datagram was refused.
        earlier_refused: bool,
    },
    /// The socket did not take it (buffer full, too large, ...).
    Failed {
        /// Why.
        error: io::Error,
        /// The previous datagram was refused.
        earlier_refused: bool,
    },
}
