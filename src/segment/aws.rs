//! The `aws` block: the AWS call a subsegment made and the AWS resource a segment ran on.

use serde::Serialize;

/// `aws`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct Aws<'a> {
    /// Account id of the caller or of the resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<&'a str>,
    /// The AWS API operation, e.g. `GetItem`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<&'a str>,
    /// Region of the called service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<&'a str>,
    /// Request id returned by the service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<&'a str>,
    /// SQS queue URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_url: Option<&'a str>,
    /// DynamoDB table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_name: Option<&'a str>,
    /// DynamoDB tables, when a call touched several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_names: Option<Vec<&'a str>>,
    /// The EC2 instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ec2: Option<Ec2<'a>>,
    /// The ECS container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ecs: Option<Ecs<'a>>,
    /// The EKS (or Kubernetes) pod.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eks: Option<Eks<'a>>,
    /// The Elastic Beanstalk environment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elastic_beanstalk: Option<ElasticBeanstalk<'a>>,
    /// CloudWatch log groups of the application.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cloudwatch_logs: Vec<CloudWatchLogs<'a>>,
    /// The instrumentation that produced the document.
    pub xray: XraySdk<'a>,
}

/// `aws.ec2`; unknown values are written as `null`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct Ec2<'a> {
    /// `host.id`.
    pub instance_id: Option<&'a str>,
    /// `cloud.availability_zone`.
    pub availability_zone: Option<&'a str>,
    /// `host.type`.
    pub instance_size: Option<&'a str>,
    /// `host.image.id`.
    pub ami_id: Option<&'a str>,
}

/// `aws.ecs`; unknown values are omitted.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct Ecs<'a> {
    /// `container.name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<&'a str>,
    /// `container.id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_id: Option<&'a str>,
    /// `cloud.availability_zone`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<&'a str>,
    /// `aws.ecs.container.arn`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_arn: Option<&'a str>,
    /// `aws.ecs.cluster.arn`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_arn: Option<&'a str>,
    /// `aws.ecs.task.arn`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_arn: Option<&'a str>,
    /// `aws.ecs.task.family`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_family: Option<&'a str>,
    /// `aws.ecs.launchtype`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launch_type: Option<&'a str>,
}

/// `aws.eks`; unknown values are written as `null`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct Eks<'a> {
    /// `k8s.cluster.name`.
    pub cluster_name: Option<&'a str>,
    /// `k8s.pod.name`.
    pub pod: Option<&'a str>,
    /// `container.id`.
    pub container_id: Option<&'a str>,
}

/// `aws.elastic_beanstalk`; unknown values are written as `null`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct ElasticBeanstalk<'a> {
    /// `service.namespace`.
    pub environment_name: Option<&'a str>,
    /// `service.version`.
    pub version_label: Option<&'a str>,
    /// `service.instance.id` as an integer.
    pub deployment_id: Option<i64>,
}

/// One entry of `aws.cloudwatch_logs`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct CloudWatchLogs<'a> {
    /// Log group name.
    pub log_group: &'a str,
    /// Log group ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<&'a str>,
}

/// `aws.xray`: the instrumentation that produced the document.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct XraySdk<'a> {
    /// e.g. `opentelemetry for rust`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sdk: Option<std::borrow::Cow<'a, str>>,
    /// `telemetry.sdk.version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sdk_version: Option<&'a str>,
    /// Whether an auto-instrumentation agent produced the span.
    pub auto_instrumentation: bool,
}
