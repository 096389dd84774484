//! The one connection the Redis store talks through: a single Redis (a reconnecting
//! `ConnectionManager`) or a Redis Cluster (redis-rs's async cluster connection, which follows
//! the slot map and routes each command and script by its first key). `REDIS_URL` with several
//! comma-separated node URLs means a cluster. Every key of a pipeline shares one hash tag
//! (`{pipe}`, see `keys.rs`), so its scripts and pipelines run unchanged on either.

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{AggregateOp, MultipleNodeRoutingInfo, ResponsePolicy, RoutingInfo};
use redis::io::tcp::TcpSettings;
use redis::{Cmd, IntoConnectionInfo, Pipeline, RedisFuture, RedisResult, Value};

/// A connection to a single Redis or to a Redis Cluster; cheap to clone.
#[derive(Clone)]
pub enum RedisConnection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl RedisConnection {
    /// Connects to `url`: one node, or a cluster when it lists several, comma-separated.
    pub async fn open(url: &str) -> RedisResult<Self> {
        let nodes: Vec<&str> = url
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .collect();
        if nodes.len() > 1 {
            let client = ClusterClient::builder(nodes)
                .connection_timeout(Duration::from_secs(1))
                .response_timeout(Duration::from_millis(500))
                .retries(2)
                .build()?;
            return Ok(RedisConnection::Cluster(
                client.get_async_connection().await?,
            ));
        }
        let info = url.into_connection_info()?;
        let tcp = TcpSettings::default().set_nodelay(true);
        let client = redis::Client::open(info.set_tcp_settings(tcp))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_millis(500)))
            .set_number_of_retries(2);
        Ok(RedisConnection::Single(
            client.get_connection_manager_with_config(config).await?,
        ))
    }

    /// Whether it talks to a cluster.
    pub fn is_cluster(&self) -> bool {
        matches!(self, RedisConnection::Cluster(_))
    }
}

/// Deletes every key matching `pattern` (a `SCAN MATCH` pattern) on each node.
pub async fn delete_matching(con: &RedisConnection, pattern: &str) -> RedisResult<u64> {
    const CODE: &str = include_str!("../lua/delete_prefix.lua");
    let script = redis::Script::new(CODE);
    match con.clone() {
        RedisConnection::Single(mut c) => script.arg(pattern).invoke_async(&mut c).await,
        RedisConnection::Cluster(mut c) => {
            let mut cmd = redis::cmd("EVAL");
            cmd.arg(CODE).arg(0).arg(pattern);
            let routing = RoutingInfo::MultiNode((
                MultipleNodeRoutingInfo::AllMasters,
                Some(ResponsePolicy::Aggregate(AggregateOp::Sum)),
            ));
            let value = c.route_command(cmd, routing).await?;
            Ok(redis::from_redis_value(value)?)
        }
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            RedisConnection::Single(c) => c.req_packed_command(cmd),
            RedisConnection::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            RedisConnection::Single(c) => c.req_packed_commands(cmd, offset, count),
            RedisConnection::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            RedisConnection::Single(c) => c.get_db(),
            RedisConnection::Cluster(c) => c.get_db(),
        }
    }
}
