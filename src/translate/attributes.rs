//! One pass over a span's attributes: where each attribute the translation knows sits, and which
//! attributes a stage has consumed (consumed attributes never reach annotations or metadata).

use opentelemetry::{KeyValue, Value};

macro_rules! known_keys {
    ($($variant:ident => $name:literal,)*) => {
        /// An attribute key some translation stage reads.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[allow(clippy::enum_variant_names)]
        pub(super) enum Known { $($variant,)* }

        /// Every known key, indexed by its discriminant.
        const ALL_KNOWN: &[Known] = &[$(Known::$variant,)*];
        const KNOWN_COUNT: usize = ALL_KNOWN.len();

        /// The known key named `key`, if any.
        pub(super) fn classify(key: &str) -> Option<Known> {
            match key {
                $($name => Some(Known::$variant),)*
                _ => None,
            }
        }
    };
}

known_keys! {
    HttpMethod => "http.method",
    HttpRequestMethod => "http.request.method",
    HttpClientIp => "http.client_ip",
    ClientAddress => "client.address",
    HttpUserAgent => "http.user_agent",
    UserAgentOriginal => "user_agent.original",
    HttpStatusCode => "http.status_code",
    HttpResponseStatusCode => "http.response.status_code",
    HttpUrl => "http.url",
    UrlFull => "url.full",
    HttpScheme => "http.scheme",
    UrlScheme => "url.scheme",
    HttpHost => "http.host",
    HttpTarget => "http.target",
    HttpServerName => "http.server_name",
    NetHostPort => "net.host.port",
    HostName => "host.name",
    NetHostName => "net.host.name",
    NetPeerName => "net.peer.name",
    ServerAddress => "server.address",
    NetPeerPort => "net.peer.port",
    ServerPort => "server.port",
    NetPeerIp => "net.peer.ip",
    NetworkPeerAddress => "network.peer.address",
    UrlPath => "url.path",
    UrlQuery => "url.query",
    MessageType => "message.type",
    MessagingPayloadSize => "messaging.message_payload_size_bytes",
    HttpResponseBodySize => "http.response.body.size",
    HttpResponseContentLength => "http.response_content_length",
    HttpStatusText => "http.status_text",
    AwsOperation => "aws.operation",
    RpcMethod => "rpc.method",
    AwsAccountId => "aws.account_id",
    AwsRegion => "aws.region",
    AwsRequestId => "aws.request_id",
    AwsRequestIdCamel => "aws.requestId",
    AwsQueueUrl => "aws.queue_url",
    AwsQueueUrlDotted => "aws.queue.url",
    AwsTableName => "aws.table_name",
    AwsTableNameDotted => "aws.table.name",
    MessagingUrl => "messaging.url",
    AwsDynamodbTableNames => "aws.dynamodb.table_names",
    AwsService => "aws.service",
    RpcService => "rpc.service",
    RpcSystem => "rpc.system",
    PeerService => "peer.service",
    DbConnectionString => "db.connection_string",
    DbSystem => "db.system",
    DbName => "db.name",
    DbStatement => "db.statement",
    DbUser => "db.user",
    AwsXrayInprogress => "aws.xray.inprogress",
    EnduserId => "enduser.id",
    AwsXrayAnnotations => "aws.xray.annotations",
    AwsLocalService => "aws.local.service",
    AwsRemoteService => "aws.remote.service",
    AwsSpanKind => "aws.span.kind",
    AwsRemoteOperation => "aws.remote.operation",
    RemoteTarget => "remoteTarget",
    K8sRemoteNamespace => "K8s.RemoteNamespace",
}

const NONE: u8 = u8::MAX;

/// Attributes whose classification is remembered; later ones are looked up again when needed.
const CACHED: usize = 64;

/// A set of known keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct KeySet(u64);

impl KeySet {
    /// The set holding `keys`.
    pub(super) const fn of(keys: &[Known]) -> Self {
        let mut bits = 0u64;
        let mut i = 0;
        while i < keys.len() {
            bits |= 1 << keys[i] as u8;
            i += 1;
        }
        KeySet(bits)
    }

    /// This set plus `key`.
    pub(super) fn with(self, key: Known) -> Self {
        KeySet(self.0 | 1 << key as u8)
    }

    /// Every key in either set.
    pub(super) fn union(self, other: KeySet) -> Self {
        KeySet(self.0 | other.0)
    }

    /// Keys of this set that are not in `other`.
    pub(super) fn without(self, other: KeySet) -> Self {
        KeySet(self.0 & !other.0)
    }

    fn contains(self, key: u8) -> bool {
        key != NONE && self.0 & (1 << key) != 0
    }
}

/// A span's attributes with the position of every known key.
pub(super) struct Attributes<'a> {
    /// All attributes, in insertion order.
    pub(super) list: &'a [KeyValue],
    /// Per known key: 1 + the index of its last occurrence, or 0.
    last: [u16; KNOWN_COUNT],
    /// The known key of each of the first `CACHED` attributes, or `NONE` (no heap, no re-lookup).
    known: [u8; CACHED],
    /// Keys removed by the stages so far.
    pub(super) consumed: KeySet,
    /// Keys treated as absent altogether (see [`Attributes::remove`]).
    removed: KeySet,
}

const _: () = assert!(KNOWN_COUNT <= 64 && KNOWN_COUNT < NONE as usize);

impl<'a> Attributes<'a> {
    /// Classifies every attribute of `list`.
    pub(super) fn scan(list: &'a [KeyValue]) -> Self {
        let mut last = [0u16; KNOWN_COUNT];
        let mut known = [NONE; CACHED];
        for (index, kv) in list.iter().enumerate() {
            if let Some(key) = classify(kv.key.as_str()) {
                if let Some(slot) = known.get_mut(index) {
                    *slot = key as u8;
                }
                // Spans beyond u16::MAX attributes keep the first 65,534 positions.
                if let Ok(position) = u16::try_from(index + 1) {
                    last[key as usize] = position;
                }
            }
        }
        Attributes {
            list,
            last,
            known,
            consumed: KeySet::default(),
            removed: KeySet::default(),
        }
    }

    /// Makes `keys` absent, as if the span never had them.
    pub(super) fn remove(&mut self, keys: KeySet) {
        self.removed = self.removed.union(keys);
    }

    /// Index of the last occurrence of `key`.
    pub(super) fn position(&self, key: Known) -> Option<usize> {
        if self.removed.contains(key as u8) {
            return None;
        }
        match self.last[key as usize] {
            0 => None,
            position => Some(position as usize - 1),
        }
    }

    /// The value of `key` (its last occurrence).
    pub(super) fn get(&self, key: Known) -> Option<&'a Value> {
        self.position(key).map(|index| &self.list[index].value)
    }

    /// The string value of `key`; `None` when absent or not a string.
    pub(super) fn str(&self, key: Known) -> Option<&'a str> {
        self.get(key).and_then(as_str)
    }

    /// The value of whichever of `a` and `b` was set last.
    pub(super) fn last_of(&self, a: Known, b: Known) -> Option<&'a Value> {
        match (self.position(a), self.position(b)) {
            (Some(x), Some(y)) => Some(&self.list[x.max(y)].value),
            (Some(x), None) | (None, Some(x)) => Some(&self.list[x].value),
            (None, None) => None,
        }
    }

    /// The known key of the attribute at `index`.
    pub(super) fn known_at(&self, index: usize) -> Option<Known> {
        match self.known.get(index) {
            Some(&key) => ALL_KNOWN.get(usize::from(key)).copied(),
            None => self.list.get(index).and_then(|kv| classify(kv.key.as_str())),
        }
    }

    /// Whether the attribute at `index` has been consumed by a stage.
    pub(super) fn is_consumed(&self, index: usize) -> bool {
        let key = self.known_at(index).map_or(NONE, |k| k as u8);
        self.consumed.contains(key) || self.removed.contains(key)
    }
}

/// The text of a string value.
pub(super) fn as_str(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) => Some(s.as_str()),
        _ => None,
    }
}

/// An integer value; a string holding a decimal integer counts too (tracing-opentelemetry records
/// `u64` fields as strings). Anything else is `None`.
pub(super) fn as_int(value: &Value) -> Option<i64> {
    match value {
        Value::I64(i) => Some(*i),
        Value::String(s) => s.as_str().trim().parse().ok(),
        _ => None,
    }
}
