//! An API Gateway custom authorizer (TOKEN or REQUEST type) traced in AWS X-Ray.
//!
//! The function reads the caller's API key (`authorizationToken` for a TOKEN authorizer, the
//! `Authorization` header for a REQUEST one, `Bearer ` prefix optional), looks it up in a
//! static table standing in for a real key store, and answers with an IAM policy that allows or
//! denies `execute-api:Invoke` on the requested `methodArn` (a denied caller gets a 403 from
//! API Gateway). The key itself is never logged nor recorded on a span: only whether one was
//! present, and the `decision`.
//!
//! Build and deploy with [cargo-lambda](https://www.cargo-lambda.info), then attach the function
//! to the API as its authorizer. **Active tracing** must be on for the function (`--tracing
//! active`; its role needs `xray:PutTraceSegments`), and X-Ray tracing on the API stage:
//! without it Lambda starts no trace for the invocation and nothing is sent.
//!
//! ```text
//! cargo lambda build --release --example lambda_authorizer --features lambda
//! cargo lambda deploy --binary-name lambda_authorizer --tracing active api-authorizer
//! ```
//!
//! In X-Ray, under the function's segment (`AWS::Lambda::Function`, recorded by Lambda itself),
//! every invocation shows a `## handler` subsegment annotated with `ColdStart` and `Service`,
//! and inside it `authorize` (annotation `decision`, metadata `token.present`) and its child
//! `lookup api key`. Denied calls can be found with `annotation.decision = "Deny"`.

use std::collections::HashMap;

use lambda_runtime::tower::Layer;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::field::Empty;
use xray_bridge::XrayExporter;

/// API keys and the principal each one stands for (a stand-in for a key store or a JWT check).
const API_KEYS: &[(&str, &str)] = &[("demo-key-alice", "user-alice"), ("demo-key-bob", "user-bob")];

/// The authorizer event, TOKEN or REQUEST. Deliberately not `Debug`: it carries the secret.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizerEvent {
    /// TOKEN authorizers: the value of the configured identity source header.
    authorization_token: Option<String>,
    /// REQUEST authorizers: the request's headers.
    headers: Option<HashMap<String, String>>,
    /// The method being called (`routeArn` for HTTP APIs).
    #[serde(alias = "routeArn")]
    method_arn: String,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    // In Lambda (AWS_LAMBDA_FUNCTION_NAME set) this picks Lambda mode by itself; `decision`
    // becomes an annotation, so it can be searched for.
    let xray = xray_bridge::builder()
        .with_exporter(XrayExporter::builder().with_indexed_attributes(["decision"]))
        .install()?;
    let handler = xray.lambda_layer().layer(service_fn(handle));
    lambda_runtime::run(handler).await
}

async fn handle(event: LambdaEvent<AuthorizerEvent>) -> Result<Value, Error> {
    let request = event.payload;
    let principal = authorize(api_key(&request));
    let (principal_id, effect) = match principal {
        Some(principal) => (principal, "Allow"),
        None => ("anonymous", "Deny"),
    };
    Ok(json!({
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{
                "Action": "execute-api:Invoke",
                "Effect": effect,
                "Resource": request.method_arn,
            }],
        },
    }))
}

/// The key from `authorizationToken` or from the `Authorization` header (any case).
fn api_key(request: &AuthorizerEvent) -> Option<&str> {
    let header = request.headers.as_ref().and_then(|headers| {
        headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
            .map(|(_, value)| value)
    });
    let raw = request.authorization_token.as_ref().or(header)?.trim();
    let key = raw.strip_prefix("Bearer ").unwrap_or(raw).trim();
    (!key.is_empty()).then_some(key)
}

/// Decides. `skip_all` keeps the key out of the span: `#[instrument]` would otherwise record
/// every argument with `Debug`.
#[tracing::instrument(skip_all, fields(token.present = key.is_some(), decision = Empty))]
fn authorize(key: Option<&str>) -> Option<&'static str> {
    let principal = key.and_then(lookup);
    let decision = if principal.is_some() { "Allow" } else { "Deny" };
    tracing::Span::current().record("decision", decision);
    principal
}

/// The key store lookup, in a child span of its own.
fn lookup(key: &str) -> Option<&'static str> {
    let span = tracing::info_span!("lookup api key", key.found = Empty).entered();
    let principal = API_KEYS
        .iter()
        .find(|(known, _)| *known == key)
        .map(|(_, principal)| *principal);
    span.record("key.found", principal.is_some());
    principal
}
