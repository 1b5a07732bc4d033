//! What the translation needs from the OpenTelemetry resource, read once when the exporter
//! learns its resource: `origin`, the resource part of the `aws` block, `service`, the stack
//! parser, and the `otel.resource.*` entries.

use std::borrow::Cow;

use opentelemetry::{Array, Value};
use opentelemetry_sdk::Resource;

use super::stack::StackLanguage;
use crate::segment::{Aws, CloudWatchLogs, Ec2, Ecs, Eks, ElasticBeanstalk, Service, XraySdk};

/// The resource, pre-digested for translation.
#[derive(Clone, Debug, Default)]
pub(crate) struct ResourceInfo {
    /// `otel.resource.<key>` → value, for segments' annotations and metadata.
    pub(super) entries: Vec<(String, Value)>,
    pub(super) service_name: Option<String>,
    pub(super) origin: Option<&'static str>,
    pub(super) language: Option<StackLanguage>,
    /// `false` when `cloud.provider` is set to something other than `aws`.
    aws_provider: bool,
    platform: Option<String>,
    account_id: Option<String>,
    availability_zone: Option<String>,
    host_id: Option<String>,
    host_type: Option<String>,
    host_image_id: Option<String>,
    container_name: Option<String>,
    container_id: Option<String>,
    container_image_tag: Option<String>,
    k8s_cluster: Option<String>,
    k8s_pod: Option<String>,
    service_namespace: Option<String>,
    service_instance_id: Option<String>,
    service_version: Option<String>,
    sdk: Option<String>,
    sdk_version: Option<String>,
    auto_instrumentation: bool,
    ecs_cluster_arn: Option<String>,
    ecs_container_arn: Option<String>,
    ecs_task_arn: Option<String>,
    ecs_task_family: Option<String>,
    ecs_launch_type: Option<String>,
    /// `(log group, arn)` pairs.
    log_groups: Vec<(String, Option<String>)>,
}

impl ResourceInfo {
    /// Reads `resource`; `fallback_log_groups` is the exporter's `aws_log_groups` setting.
    pub(crate) fn new(resource: &Resource, fallback_log_groups: &[String]) -> Self {
        let get = |key: &str| resource.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v);
        let text = |key: &str| match get(key) {
            Some(Value::String(s)) if !s.as_str().is_empty() => Some(s.as_str().to_owned()),
            _ => None,
        };
        let provider = text("cloud.provider");
        let platform = text("cloud.platform");
        let launch_type = text("aws.ecs.launchtype");
        let sdk_name = text("telemetry.sdk.name");
        let sdk_language = text("telemetry.sdk.language");
        let auto_instrumentation =
            text("telemetry.auto.version").is_some() || text("telemetry.distro.version").is_some();
        let log_groups = match (list(get("aws.log.group.arns")), list(get("aws.log.group.names"))) {
            (arns, _) if !arns.is_empty() => arns
                .into_iter()
                .map(|arn| (log_group_of_arn(&arn), Some(arn)))
                .collect(),
            (_, names) if !names.is_empty() => names.into_iter().map(|name| (name, None)).collect(),
            _ => fallback_log_groups
                .iter()
                .map(|name| (name.clone(), None))
                .collect(),
        };
        let aws_provider = provider.as_deref().is_none_or(|p| p == "aws");
        ResourceInfo {
            entries: resource
                .iter()
                .map(|(key, value)| (format!("otel.resource.{}", key.as_str()), value.clone()))
                .collect(),
            service_name: text("service.name"),
            origin: if resource.is_empty() || !aws_provider {
                None
            } else {
                origin(platform.as_deref(), launch_type.as_deref())
            },
            language: sdk_language.as_deref().and_then(StackLanguage::from_sdk_language),
            aws_provider,
            account_id: text("cloud.account.id"),
            availability_zone: text("cloud.availability_zone"),
            host_id: text("host.id"),
            host_type: text("host.type"),
            host_image_id: text("host.image.id"),
            container_name: text("container.name"),
            container_id: text("container.id"),
            container_image_tag: text("container.image.tag"),
            k8s_cluster: text("k8s.cluster.name"),
            k8s_pod: text("k8s.pod.name"),
            service_namespace: text("service.namespace"),
            service_instance_id: text("service.instance.id"),
            service_version: text("service.version"),
            sdk: match (sdk_name, sdk_language) {
                (Some(name), Some(language)) => Some(format!("{name} for {language}")),
                (name, _) => name,
            },
            sdk_version: text("telemetry.sdk.version"),
            auto_instrumentation,
            ecs_cluster_arn: text("aws.ecs.cluster.arn"),
            ecs_container_arn: text("aws.ecs.container.arn"),
            ecs_task_arn: text("aws.ecs.task.arn"),
            ecs_task_family: text("aws.ecs.task.family"),
            ecs_launch_type: launch_type,
            log_groups,
            platform,
        }
    }

    /// `service`: the resource's `service.version`, else its container image tag.
    pub(super) fn service(&self) -> Option<Service<'_>> {
        self.service_version
            .as_deref()
            .or(self.container_image_tag.as_deref())
            .map(|version| Service { version })
    }

    /// The resource part of the `aws` block; `None` when the cloud provider is not AWS.
    pub(super) fn aws(&self) -> Option<Aws<'_>> {
        if !self.aws_provider {
            return None;
        }
        let platform = self.platform.as_deref();
        let zone = self.availability_zone.as_deref();
        let ec2 = (platform == Some("aws_ec2") || self.host_id.is_some()).then_some(Ec2 {
            instance_id: self.host_id.as_deref(),
            availability_zone: zone,
            instance_size: self.host_type.as_deref(),
            ami_id: self.host_image_id.as_deref(),
        });
        let ecs = (platform == Some("aws_ecs")).then_some(Ecs {
            container: self.container_name.as_deref(),
            container_id: self.container_id.as_deref(),
            availability_zone: zone,
            container_arn: self.ecs_container_arn.as_deref(),
            cluster_arn: self.ecs_cluster_arn.as_deref(),
            task_arn: self.ecs_task_arn.as_deref(),
            task_family: self.ecs_task_family.as_deref(),
            launch_type: self.ecs_launch_type.as_deref(),
        });
        let elastic_beanstalk = (platform == Some("aws_elastic_beanstalk"))
            .then_some(self.service_instance_id.as_deref())
            .flatten()
            .map(|instance| ElasticBeanstalk {
                environment_name: self.service_namespace.as_deref(),
                version_label: self.service_version.as_deref(),
                deployment_id: Some(instance.trim().parse().unwrap_or(0)),
            });
        let eks = (platform == Some("aws_eks") || self.k8s_cluster.is_some()).then_some(Eks {
            cluster_name: self.k8s_cluster.as_deref(),
            pod: self.k8s_pod.as_deref(),
            container_id: self.container_id.as_deref(),
        });
        Some(Aws {
            account_id: self.account_id.as_deref(),
            ec2,
            ecs,
            eks,
            elastic_beanstalk,
            cloudwatch_logs: self
                .log_groups
                .iter()
                .map(|(log_group, arn)| CloudWatchLogs {
                    log_group,
                    arn: arn.as_deref(),
                })
                .collect(),
            xray: XraySdk {
                sdk: self.sdk.as_deref().map(Cow::Borrowed),
                sdk_version: self.sdk_version.as_deref(),
                auto_instrumentation: self.auto_instrumentation,
            },
            ..Aws::default()
        })
    }
}

/// The most specific AWS resource type for `cloud.platform`.
fn origin(platform: Option<&str>, launch_type: Option<&str>) -> Option<&'static str> {
    Some(match platform? {
        "aws_app_runner" => "AWS::AppRunner::Service",
        "aws_eks" => "AWS::EKS::Container",
        "aws_elastic_beanstalk" => "AWS::ElasticBeanstalk::Environment",
        "aws_ecs" => match launch_type {
            Some("ec2") => "AWS::ECS::EC2",
            Some("fargate") => "AWS::ECS::Fargate",
            _ => "AWS::ECS::Container",
        },
        "aws_ec2" => "AWS::EC2::Instance",
        _ => return None,
    })
}

/// A string array, or a string of `&`-separated items; empty items are dropped.
fn list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(Array::String(items))) => items.iter().map(|s| s.as_str().to_owned()).collect(),
        Some(Value::String(s)) => s
            .as_str()
            .split('&')
            .filter(|i| !i.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// The log group named by a log group ARN (its 7th `:`-separated field), or the whole text.
fn log_group_of_arn(arn: &str) -> String {
    arn.split(':').nth(6).unwrap_or(arn).to_owned()
}
