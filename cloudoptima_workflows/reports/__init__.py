"""Reports: the GenerateReport workflow (generate the artifact, then deliver it by email or to S3)."""
