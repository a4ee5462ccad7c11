"""A strict fake GCP project: Compute/Resource Manager/Recommender/Asset/BigQuery over REST, Monitoring/IAM over gRPC."""
