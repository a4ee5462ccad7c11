"""Well-known FOCUS ``ServiceName`` values per provider: the names a budget may be scoped to before the service
has any spend (``cloudoptima.services.budget_scope_check``).

Taken from the providers' FOCUS exports (AWS Data Exports "FOCUS 1.2 with AWS columns", Microsoft FocusCost as
mapped by the FinOps toolkit ``Services.csv``, Google Cloud FOCUS export). Not exhaustive: a service outside
this list is accepted once it appears in the organisation's cost data.
"""

from __future__ import annotations

KNOWN_SERVICES: dict[str, frozenset[str]] = {
    "aws": frozenset(
        {
            "Amazon Elastic Compute Cloud",
            "Amazon Simple Storage Service",
            "Amazon Relational Database Service",
            "Amazon Virtual Private Cloud",
            "Elastic Load Balancing",
            "AWS Lambda",
            "Amazon CloudFront",
            "Amazon DynamoDB",
            "Amazon CloudWatch",
            "AWS Key Management Service",
            "Amazon ElastiCache",
            "Amazon Elastic Container Service",
            "Amazon Elastic Container Registry",
            "Amazon Elastic Kubernetes Service",
            "Amazon Elastic File System",
            "Amazon Route 53",
            "Amazon Simple Queue Service",
            "Amazon Simple Notification Service",
            "Amazon Redshift",
            "Amazon SageMaker",
            "Amazon OpenSearch Service",
            "Amazon Athena",
            "AWS Glue",
            "AWS Backup",
            "AWS Config",
            "AWS CloudTrail",
            "AWS Secrets Manager",
            "AWS Data Transfer",
            "Amazon API Gateway",
            "AWS Step Functions",
            "Amazon Kinesis",
            "Amazon EC2 Container Registry (ECR)",
            "Savings Plans for AWS Compute usage",
        }
    ),
    "azure": frozenset(
        {
            "Virtual Machines",
            "Storage Accounts",
            "Azure DB for PostgreSQL",
            "Azure DB for MySQL",
            "SQL Database",
            "Load Balancer",
            "Virtual Network",
            "Azure Kubernetes Service",
            "App Service",
            "Azure Functions",
            "Azure Cosmos DB",
            "Azure Monitor",
            "Log Analytics",
            "Key Vault",
            "Bandwidth",
            "Container Registry",
            "Azure Cache for Redis",
            "Application Gateway",
            "Azure Firewall",
            "Azure Backup",
            "Azure Front Door",
            "Event Hubs",
            "Service Bus",
            "Azure Synapse Analytics",
            "Azure Data Factory",
        }
    ),
    "gcp": frozenset(
        {
            "Compute Engine",
            "Cloud Storage",
            "Cloud SQL",
            "BigQuery",
            "Kubernetes Engine",
            "Cloud Run",
            "Cloud Functions",
            "Cloud Logging",
            "Cloud Monitoring",
            "Networking",
            "Cloud Pub/Sub",
            "Cloud Memorystore for Redis",
            "Artifact Registry",
            "Cloud Spanner",
            "Cloud Load Balancing",
            "Cloud DNS",
            "Vertex AI",
            "Dataflow",
            "Cloud Key Management Service (KMS)",
            "Secret Manager",
        }
    ),
}
