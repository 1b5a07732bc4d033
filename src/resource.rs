//! The OpenTelemetry resource: who is sending, and where it runs.
//!
//! Inside AWS Lambda everything comes from the environment, with no network call ever. Elsewhere
//! the Elastic Beanstalk file the X-Ray SDKs read is checked, and, behind the `ec2`, `ecs` and
//! `eks` features, opentelemetry-aws's detectors ask the instance metadata services, bounded to
//! one second in total.
//!
//! [`builder()`](crate::builder) runs all of this by itself. For a tracer provider of your own,
//! [`LambdaResourceDetector`] and [`ElasticBeanstalkResourceDetector`] are OpenTelemetry
//! resource detectors:
//!
//! ```
//! use opentelemetry_sdk::Resource;
//! use xray_bridge::resource::{ElasticBeanstalkResourceDetector, LambdaResourceDetector};
//!
//! let resource = Resource::builder()
//!     .with_service_name("orders-api")
//!     .with_detector(Box::new(LambdaResourceDetector))
//!     .with_detector(Box::new(ElasticBeanstalkResourceDetector))
//!     .build();
//! # let _ = resource;
//! ```

use std::path::Path;
#[cfg(all(feature = "layer", any(feature = "ec2", feature = "ecs", feature = "eks")))]
use std::time::Duration;

use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_sdk::resource::ResourceDetector;
use opentelemetry_sdk::Resource;

use crate::config::Environment;

/// Where Elastic Beanstalk describes the environment for the X-Ray SDKs.
const ELASTIC_BEANSTALK_CONF: &str = "/var/elasticbeanstalk/xray/environment.conf";

/// The AWS Lambda function, from the variables the Lambda runtime sets (`cloud.*`, `faas.*`,
/// `aws.log.group.names`): never a network call. Empty outside Lambda.
#[derive(Clone, Copy, Debug, Default)]
pub struct LambdaResourceDetector;

impl ResourceDetector for LambdaResourceDetector {
    fn detect(&self) -> Resource {
        let env = Environment::read();
        let attributes = if env.in_lambda() { lambda(&env) } else { Vec::new() };
        Resource::builder_empty().with_attributes(attributes).build()
    }
}

/// The Elastic Beanstalk environment, from the file the X-Ray SDKs read
/// (`/var/elasticbeanstalk/xray/environment.conf`): `cloud.*`, `service.namespace`,
/// `service.version`, `service.instance.id`. Empty when the file is absent or invalid.
#[derive(Clone, Copy, Debug, Default)]
pub struct ElasticBeanstalkResourceDetector;

impl ResourceDetector for ElasticBeanstalkResourceDetector {
    fn detect(&self) -> Resource {
        Resource::builder_empty()
            .with_attributes(elastic_beanstalk(Path::new(ELASTIC_BEANSTALK_CONF)))
            .build()
    }
}

/// How long the metadata detectors may take altogether.
#[cfg(all(feature = "layer", any(feature = "ec2", feature = "ecs", feature = "eks")))]
const DETECTION_BUDGET: Duration = Duration::from_secs(1);

/// The resource for a service named `service_name`: what is detected, then the attributes of
/// `given` (which win), then the service name.
#[cfg(feature = "layer")]
pub(crate) fn detect(service_name: &str, given: &Resource, env: &Environment) -> Resource {
    let detected = if env.in_lambda() {
        lambda(env)
    } else {
        let mut attributes = elastic_beanstalk(Path::new(ELASTIC_BEANSTALK_CONF));
        attributes.extend(metadata_services());
        attributes
    };
    let given = given
        .iter()
        .map(|(key, value)| KeyValue::new(key.clone(), value.clone()));
    Resource::builder()
        .with_attributes(detected)
        .with_attributes(given)
        .with_service_name(service_name.to_owned())
        .build()
}

/// Lambda attributes, from the variables the Lambda runtime sets.
fn lambda(env: &Environment) -> Vec<KeyValue> {
    let mut attributes = vec![
        KeyValue::new("cloud.provider", "aws"),
        KeyValue::new("cloud.platform", "aws_lambda"),
    ];
    let mut text = |key: &'static str, value: &Option<String>| {
        if let Some(value) = value {
            attributes.push(KeyValue::new(key, value.clone()));
        }
    };
    text("cloud.region", &env.aws_region);
    text("faas.name", &env.aws_lambda_function_name);
    text("faas.version", &env.aws_lambda_function_version);
    text("faas.instance", &env.aws_lambda_log_stream_name);
    if let Some(group) = &env.aws_lambda_log_group_name {
        attributes.push(KeyValue::new(
            "aws.log.group.names",
            Value::Array(Array::String(vec![StringValue::from(group.clone())])),
        ));
    }
    if let Some(megabytes) = env
        .aws_lambda_function_memory_size
        .as_deref()
        .and_then(|m| m.trim().parse::<i64>().ok())
    {
        attributes.push(KeyValue::new(
            "faas.max_memory",
            megabytes.saturating_mul(1024 * 1024),
        ));
    }
    attributes
}

/// Elastic Beanstalk attributes from the file at `path` (nothing when it is absent or invalid).
fn elastic_beanstalk(path: &Path) -> Vec<KeyValue> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let Ok(serde_json::Value::Object(conf)) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    let field = |key: &str| match conf.get(key) {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let mut attributes = vec![
        KeyValue::new("cloud.provider", "aws"),
        KeyValue::new("cloud.platform", "aws_elastic_beanstalk"),
    ];
    for (key, attribute) in [
        ("environment_name", "service.namespace"),
        ("version_label", "service.version"),
        ("deployment_id", "service.instance.id"),
    ] {
        if let Some(value) = field(key) {
            attributes.push(KeyValue::new(attribute, value));
        }
    }
    attributes
}

/// EC2, ECS and EKS attributes from opentelemetry-aws's detectors, on a helper thread; whatever
/// has not answered within [`DETECTION_BUDGET`] is left out.
#[cfg(all(feature = "layer", any(feature = "ec2", feature = "ecs", feature = "eks")))]
fn metadata_services() -> Vec<KeyValue> {
    let (sender, receiver) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("xray-bridge-detect".into())
        .spawn(move || {
            let detectors: Vec<Box<dyn ResourceDetector>> = vec![
                #[cfg(feature = "ec2")]
                Box::new(opentelemetry_aws::detector::Ec2ResourceDetector),
                #[cfg(feature = "ecs")]
                Box::new(opentelemetry_aws::detector::EcsResourceDetector),
                #[cfg(feature = "eks")]
                Box::new(opentelemetry_aws::detector::EksResourceDetector),
            ];
            for detector in detectors {
                let found: Vec<KeyValue> = detector
                    .detect()
                    .iter()
                    .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
                    .collect();
                if sender.send(found).is_err() {
                    return;
                }
            }
        });
    if spawned.is_err() {
        return Vec::new();
    }
    let deadline = std::time::Instant::now() + DETECTION_BUDGET;
    let mut attributes = Vec::new();
    while let Ok(found) = receiver.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
    {
        attributes.extend(found);
    }
    attributes
}

#[cfg(all(
    feature = "layer",
    not(any(feature = "ec2", feature = "ecs", feature = "eks"))
))]
fn metadata_services() -> Vec<KeyValue> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_attributes_come_from_the_environment() {
        let env = Environment {
            aws_lambda_function_name: Some("orders".into()),
            aws_lambda_function_version: Some("$LATEST".into()),
            aws_lambda_function_memory_size: Some("128".into()),
            aws_lambda_log_stream_name: Some("2026/11/27/[$LATEST]abc".into()),
            aws_lambda_log_group_name: Some("/aws/lambda/orders".into()),
            aws_region: Some("eu-west-1".into()),
            ..Environment::default()
        };
        let attributes = lambda(&env);
        let get = |key: &str| {
            attributes
                .iter()
                .find(|kv| kv.key.as_str() == key)
                .map(|kv| kv.value.to_string())
        };
        assert_eq!(get("cloud.platform").as_deref(), Some("aws_lambda"));
        assert_eq!(get("faas.name").as_deref(), Some("orders"));
        assert_eq!(get("faas.max_memory").as_deref(), Some("134217728"));
        assert_eq!(
            get("aws.log.group.names").as_deref(),
            Some("[\"/aws/lambda/orders\"]")
        );
        assert_eq!(get("cloud.region").as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn elastic_beanstalk_attributes_come_from_its_file() {
        let dir = std::env::temp_dir().join(format!("xray-bridge-eb-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("environment.conf");
        std::fs::write(
            &path,
            r#"{"deployment_id":23,"version_label":"v7","environment_name":"orders-prod"}"#,
        )
        .unwrap();
        let attributes = elastic_beanstalk(&path);
        let keys: Vec<String> = attributes
            .iter()
            .map(|kv| format!("{}={}", kv.key, kv.value))
            .collect();
        assert_eq!(
            keys,
            [
                "cloud.provider=aws",
                "cloud.platform=aws_elastic_beanstalk",
                "service.namespace=orders-prod",
                "service.version=v7",
                "service.instance.id=23"
            ]
        );
        assert!(elastic_beanstalk(&dir.join("missing.conf")).is_empty());
        std::fs::remove_dir_all(dir).ok();
    }
}
