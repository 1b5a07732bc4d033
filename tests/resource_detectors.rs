//! The Lambda and Elastic Beanstalk detectors as OpenTelemetry `ResourceDetector`s, for a tracer
//! provider built by hand. One test in this binary: it sets the process environment.

use opentelemetry::Key;
use opentelemetry_sdk::resource::ResourceDetector;
use xray_bridge::resource::{ElasticBeanstalkResourceDetector, LambdaResourceDetector};

#[test]
#[allow(clippy::disallowed_methods)] // the variables the Lambda runtime would set
fn the_lambda_detector_reads_the_function_from_the_environment_and_nothing_outside() {
    assert!(LambdaResourceDetector.detect().is_empty(), "not in Lambda");
    std::env::set_var("AWS_LAMBDA_FUNCTION_NAME", "orders");
    std::env::set_var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128");
    std::env::set_var("AWS_REGION", "eu-west-1");
    let lambda = LambdaResourceDetector.detect();
    let get = |key: &'static str| lambda.get(&Key::from_static_str(key)).map(|v| v.to_string());
    assert_eq!(get("cloud.provider").as_deref(), Some("aws"));
    assert_eq!(get("cloud.platform").as_deref(), Some("aws_lambda"));
    assert_eq!(get("faas.name").as_deref(), Some("orders"));
    assert_eq!(get("faas.max_memory").as_deref(), Some("134217728"));
    assert_eq!(get("cloud.region").as_deref(), Some("eu-west-1"));
    assert_eq!(lambda.len(), 5);
    // No Elastic Beanstalk file on this machine: nothing, and no error.
    assert!(ElasticBeanstalkResourceDetector.detect().is_empty());
}
