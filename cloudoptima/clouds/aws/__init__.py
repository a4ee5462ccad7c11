"""AWS implementation of the provider protocol (boto3): see :mod:`.provider` for ``AwsProvider``."""

from cloudoptima.clouds.aws.provider import AwsProvider

__all__ = ["AwsProvider"]
