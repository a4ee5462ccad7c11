"""Native service code -> FOCUS ServiceCategory tables.

AWS, Azure and GCP tables are the FinOps Foundation focus_converters mapping files
(finopsfoundation/focus_converters @ c799bf96, ``conversion_configs/*/mapping_files/*_category_mapping.csv``,
MIT licence, Copyright (c) FinOps Foundation). The OCI table is ours (the Foundation defines none).
Contract: each table maps a native code to a FOCUS ServiceCategory; callers match exactly, then
case-insensitively, and use ``Other`` for unknown codes.
"""

from __future__ import annotations


def _table(text: str) -> dict[str, str]:
    pairs = (item.strip().split("=", 1) for item in text.replace("\n", " ").split(";") if item.strip())
    return {code.strip(): category.strip() for code, category in pairs}


AWS_SERVICE_CATEGORIES: dict[str, str] = _table(
    """
AWSCleanRooms=Analytics; AWSDataExchange=Analytics; AWSGlueElasticViews=Analytics; AWSGlue=Analytics;
AWSLakeFormation=Analytics; AmazonAthena=Analytics; AmazonCloudSearch=Analytics; AmazonES=Analytics;
AmazonFinSpace=Analytics; AmazonKinesisAnalytics=Analytics; AmazonKinesisFirehose=Analytics;
AmazonKinesis=Analytics; AWSCloudMap=Networking; AmazonMSK=Analytics; AWSCloudWAN=Networking;
AmazonQuickSight=Analytics; ElasticMapReduce=Analytics; datapipeline=Analytics;
AWSQueueService=Integration; AmazonMQ=Integration; AmazonMWAA=Integration; AmazonSNS=Integration;
AmazonStates=Integration; AWSDataTransfer=Networking; AppFlow=Integration; Amazon
EventBridge=Integration; AmazonManagedBlockchain=Other; AmazonQLDB=Other; AWSDirectConnect=Networking;
A4B=Business Applications; AWSELB=Networking; AWSSupplyChain=Business Applications; AWSWickr=Business
Applications; AWSWisdom=Business Applications; AmazonChimeBusinessCalling=Business Applications;
AmazonChimeCallMeAMCS=Business Applications; AmazonChimeCallMe=Business Applications;
AmazonChimeDialInAMCS=Business Applications; AmazonChimeDialin=Business Applications;
AmazonChimeFeatures=Business Applications; AmazonChimeServices=Business Applications;
AWSGlobalAccelerator=Networking; AmazonChimeVoiceConnector=Business Applications; AmazonChime=Business
Applications; AmazonHoneycode=Business Applications; AmazonPinpoint=Business Applications;
AmazonSES=Business Applications; AmazonSWF=Business Applications; AmazonWAM=Business Applications;
AmazonWorkDocs=Business Applications; AmazonWorkLink=Business Applications; AmazonWorkMail=Business
Applications; AmazonWorkSpacesWeb=Business Applications; Compute=Business Applications;
ComputeSavingsPlans=Compute; ContactLensAmazonConnect=Business Applications; CustomerProfiles=Business
Applications; AWSBudgets=Management and Governance; AWSCostExplorer=Management and Governance; Savings
Plans*=Management and Governance; AWSNetworkFirewall=Networking; Reserved Instance (RI)
Reporting*=Management and Governance; AWSPrivate5G=Networking; AWS Cost and Usage Report*=Management and
Governance; AWSAppRunner=Compute; AWSLambda=Compute; AWSOutposts=Compute; AmazonEC2=Compute;
AmazonLightsail=Compute; SimSpaceWeaver=Compute; VMwareCloudOnAWS=Compute; AWS Compute
Optimizer*=Compute; AWS Serverless Application Repository*=Compute; AWS EC2 Auto Scaling*=Compute; AWS
Local Zones*=Compute; AWS Elastic Beanstalk*=Compute; AWS Batch*=Compute; AWS Auto Scaling*=Compute;
Amazon EC2 Spot Instances*=Compute; AWS Wavelength*=Compute; AmazonECRPublic=Compute; AmazonECR=Compute;
AmazonECS=Compute; AmazonEKS=Compute; AmazonApiGateway=Networking; AWS Fargate*=Compute; Red Hat
OpenShift Service on AWS*=Compute; AWS App2Container*=Compute; AWS Copilot*=Compute;
AmazonDocDB=Databases; AmazonDynamoDB=Databases; AmazonElastiCache=Databases; AmazonMCS=Databases;
AmazonMemoryDB=Databases; AmazonNeptune=Databases; AmazonRDS=Databases; AmazonRedshift=Databases;
AmazonTimestream=Databases; AmazonCloudFront=Networking; AWSAmplify=Developer Tools;
AWSAppSync=Developer Tools; AWSCodeArtifact=Developer Tools; AWSCodeCommit=Developer Tools;
AWSCodeDeploy=Developer Tools; AWSCodePipeline=Developer Tools; AWSDeviceFarm=Developer Tools;
CodeBuild=Developer Tools; CodeCatalyst=Developer Tools; CodeGuru=Developer Tools;
AmazonAppStream=Compute; AWSAppFabric=Integration; AWSGreengrass=Internet of Things;
AWSIoT1Click=Internet of Things; AWSIoTAnalytics=Internet of Things; AWSIoTEvents=Internet of Things;
AWSIoTFleetWise=Internet of Things; AWSIoTSiteWise=Internet of Things; AWSIoTThingsGraph=Internet of
Things; AWSIoT=Internet of Things; IoTDeviceDefender=Internet of Things; IoTDeviceManagement=Internet of
Things; IoTTwinMaker=Internet of Things; AWSDeepRacer=AI and Machine Learning; AmazonA2I=AI and Machine
Learning; AmazonBedrock=AI and Machine Learning; AmazonCodeWhisperer=AI and Machine Learning;
AmazonDevOpsGuru=AI and Machine Learning; AmazonEI=AI and Machine Learning; AmazonForecast=AI and
Machine Learning; AmazonFraudDetector=AI and Machine Learning; AmazonHealthLake=AI and Machine Learning;
AmazonKendra=AI and Machine Learning; AmazonLex=AI and Machine Learning; AmazonLookoutEquipment=AI and
Machine Learning; AmazonLookoutMetrics=AI and Machine Learning; AmazonLookoutVision=AI and Machine
Learning; AmazonMonitron=AI and Machine Learning; AmazonOmics=AI and Machine Learning;
AmazonPersonalize=AI and Machine Learning; AmazonPolly=AI and Machine Learning; AmazonRekognition=AI and
Machine Learning; AmazonSageMaker=AI and Machine Learning; AmazonTextract=AI and Machine Learning;
comprehend=AI and Machine Learning; transcribe=AI and Machine Learning; translate=AI and Machine
Learning; AWSCloudFormation=Management and Governance; AWSCloudTrail=Management and Governance;
AWSConfig=Management and Governance; AWSResilienceHub=Management and Governance;
AWSServiceCatalog=Management and Governance; AWSSystemsManager=Management and Governance;
AmazonCloudWatch=Management and Governance; AmazonGrafana=Management and Governance;
AmazonPrometheus=Management and Governance; OpsWorks=Management and Governance;
AmazonRoute53=Networking; AmazonVPC=Networking; AWSBillingConductor=Management and Governance;
AWSElementalMediaConvert=Media; AWSElementalMediaLive=Media; AWSElementalMediaPackage=Media;
AWSElementalMediaStore=Media; AWSElementalMediaTailor=Media; AWSMediaConnect=Media; AmazonETS=Media;
AmazonIVS=Media; AmazonKinesisVideo=Media; nimble=Media; AWSApplicationMigrationSvc=Migration;
AWSDataSync=Migration; AWSDatabaseMigrationSvc=Migration; AWSM2=Migration; AWSTransfer=Migration;
AmazonBraket=Other; AWSRoboMaker=Other; AWSGroundStation=Other; AWSCertificateManager=Security;
AWSDirectoryService=Security; AWSFMS=Security; AWSSecretsManager=Security; AWSSecurityHub=Security;
AWSShield=Security; AmazonCognitoSync=Security; AmazonCognito=Security; AmazonDetective=Security;
AmazonGuardDuty=Security; AmazonInspectorV2=Security; AmazonInspector=Security; AmazonMacie=Security;
AmazonSecurityLake=Security; AmazonVerifiedPermissions=Security; CloudHSM=Security;
auditmanager=Security; awskms=Security; awswaf=Security; AWSBackup=Storage;
AWSElasticDisasterRecovery=Storage; AWSStorageGatewayDeepArchive=Storage; AWSStorageGateway=Storage;
AmazonEBS=Storage; AmazonEFS=Storage; AmazonFSx=Storage; AmazonGlacier=Storage;
AmazonS3GlacierDeepArchive=Storage; AmazonS3=Storage; AWS App Mesh*=Networking; AWS
PrivateLink*=Networking; AWS Transit Gateway*=Networking; AWS Verified Access*=Networking; AWS
VPN*=Networking; IngestionServiceSnowball=Storage; SnowballExtraDays=Storage
"""
)

AZURE_SERVICE_CATEGORIES: dict[str, str] = _table(
    """
microsoft.apimanagement=Integration; microsoft.appconfiguration=Web; microsoft.compute=Compute;
microsoft.containerinstance=Compute; microsoft.containerservice=Compute;
microsoft.datafactory=Integration; microsoft.dbformysql=Databases; microsoft.dbforpostgressql=Databases;
microsoft.digitaltwins=Internet of Things; microsoft.eventgrid=Integration;
microsoft.insights=Management and Governance; microsoft.keyvault=Security;
microsoft.loadtestservice=Developer Tools; microsoft.logic=Integration;
microsoft.machinelearningservices=AI and Machine Learning; microsoft.network=Networking;
microsoft.operationalinsights=Management and Governance; microsoft.recoveryservices=Management and
Governance; microsoft.search=Web; microsoft.security=Security; microsoft.servicebus=Integration;
microsoft.storagesync=Storage; microsoft.sql=Databases; microsoft.storage=Storage;
microsoft.synapse=Analytics; microsoft.virtual network=Networking; microsoft.web=Web;
microsoft.automation=Developer Tools; microsoft.migrate=Migration; microsoft.classiccompute=Compute;
microsoft.classicnetwork=Networking; microsoft.operationsmanagement=Management and Governance;
microsoft.datalakeanalytics=Analytics; microsoft.changeanalysis=Management and Governance;
microsoft.devices=Other; microsoft.management=Other; microsoft.kusto=Analytics;
microsoft.servicefabric=Integration; microsoft.cdn=Web; microsoft.notificationhubs=Other;
microsoft.media=Media; microsoft.cognitiveservices=AI and Machine Learning; microsoft.cache=Storage;
microsoft.streamanalytics=Analytics; microsoft.eventhub=Integration; microsoft.relay=Networking;
microsoft.mixedreality=Internet of Things; microsoft.datamigration=Migration; microsoft.botservice=AI
and Machine Learning; microsoft.datalakestore=Storage; microsoft.maps=Developer Tools;
microsoft.storagecache=Storage; microsoft.securityinsights=Security; microsoft.notebooks=Analytics;
microsoft.avs=Compute; microsoft.marketplacenotifications=Other; microsoft.guestconfiguration=Identity;
microsoft.servicelinker=Integration; microsoft.desktopvirtualization=Compute;
microsoft.diagnostics=Developer Tools; microsoft.datashare=Integration; microsoft.maintenance=Other;
microsoft.offazure=Migration; microsoft.iotsecurity=Internet of Things; microsoft.machinelearning=AI and
Machine Learning; microsoft.commerce=Other; microsoft.classicstorage=Storage;
microsoft.domainregistration=Networking; microsoft.costmanagementexports=Management and Governance;
microsoft.solutions=Other; microsoft.databricks=AI and Machine Learning; microsoft.capacity=Other;
microsoft.saas=Other; microsoft.managedidentity=Security; microsoft.containerregistry=Storage;
microsoft.sqlvirtualmachine=Databases; microsoft.policyinsights=Management and Governance;
microsoft.devtestlab=Developer Tools; microsoft.blueprint=Management and Governance;
microsoft.advisor=Management and Governance; microsoft.alertsmanagement=Management and Governance;
microsoft.documentdb=Databases; microsoft.hdinsight=Analytics; microsoft.costmanagement=Management and
Governance; microsoft.portal=Other; microsoft.resourcehealth=Management and Governance;
microsoft.visualstudio=Developer Tools; microsoft.adhybridhealthservice=Identity;
microsoft.authorization=Identity; microsoft.classicsubscription=Other; microsoft.consumption=Other;
microsoft.marketplaceordering=Other; microsoft.resourcegraph=Developer Tools;
microsoft.resourcenotifications=Management and Governance; microsoft.resources=Other;
microsoft.serialconsole=Compute; microsoft.support=Other
"""
)

GCP_SERVICE_CATEGORIES: dict[str, str] = _table(
    """
Directions API=Integration; Distance Matrix API=Integration; Maps Elevation API=Integration; Geocoding
API=Integration; Geolocation API=Integration; Google Maps Mobile SDK=Integration; Roads API=Integration;
Maps Static API=Integration; Time Zone API=Integration; Custom Search=Integration; Places
API=Integration; Prediction=AI and Machine Learning; Street View Static API=Integration;
Translate=Developer Tools; App Engine=Compute; BigQuery=Databases; Cloud DNS=Networking; Cloud
SQL=Databases; Cloud Storage=Storage; Compute Engine=Compute; Actifio GO=Security; Vertex AI=AI and
Machine Learning; Anthos=Compute; Anthos Config Management=Compute; API Gateway=Integration; Google
Cloud Platform Apigee team Apigee Developer Portal=Integration; Artifact Registry=Compute; Cloud
AutoML=AI and Machine Learning; BigQuery BI Engine=Analytics; BigQuery Data Transfer Service=Migration;
BigQuery Reservation API=Analytics; BigQuery Storage API=Storage; Cloud Bigtable=Databases;
Networking=Networking; Binary Authorization=Security; Cloud Build=Developer Tools; Cloud
Functions=Compute; Cloud IoT Core=Internet of Things; Cloud Key Management Service (KMS)=Security; Cloud
Optimization=AI and Machine Learning; Cloud Scheduler=Developer Tools; Cloud Tasks=Developer Tools;
Stackdriver Trace=Compute; Cloud Composer=Analytics; Confidential Computing=Compute; Contact Center AI
Insights=AI and Machine Learning; Kubernetes Engine=Compute; Container Registry Vulnerability
Scanning=Security; Data Catalog=Analytics; Cloud Dataflow=Analytics; Cloud Data Fusion=Analytics; Cloud
Data Labeling Service=AI and Machine Learning; Google Cloud Platform Financial Services team
Datashare=Management and Governance; Datastream=Databases; Cloud Dialogflow API=Integration; Cloud Data
Loss Prevention=Security; Cloud Document API=Integration; Cloud Document AI API=Integration; Cloud
Domains=Web; Enterprise Agreement=Management and Governance; Elastifile Cloud File System=Storage; Cloud
Filestore=Storage; Firebase=Mobile; Firebase Auth=Security; Firebase Realtime Database=Databases;
Firebase Hosting=Mobile; Game Services API=Integration; Google Quickstart Simple pre-configured Debian
VM=Compute; Genomics=AI and Machine Learning; Backup for GKE=Storage; Cloud Healthcare=Integration;
BeyondCorp Enterprise=Security; Identity Platform=Security; Cloud IDS=Security; Cloud Talent Solution=AI
and Machine Learning; Cloud Natural Language=AI and Machine Learning; Live Stream API=Integration; Cloud
Logging=Management and Governance; Looker Data Platform SaaS=Analytics; Maps Embed API=Integration;
Cloud Media Translation API=Integration; Cloud Memorystore for Memcached=Databases; Anthos Service
Mesh=Management and Governance; Dataproc Metastore=Storage; Cloud Machine Learning Engine=AI and Machine
Learning; Stackdriver Monitoring=Compute; MultiClusterIngress=Compute; Notebooks=AI and Machine
Learning; Google Cloud Vision OCR On-Prem=AI and Machine Learning; On-Demand Scanning=Security; VM
Manager=Compute; Certificate Authority Service=Security; Programmable Search Element=Integration; Cloud
Pub/Sub=Integration; Pub/Sub Lite=Integration; reCAPTCHA Enterprise=Security; Recommendations AI=AI and
Machine Learning; Cloud Memorystore for Redis=Databases; Remote Build Execution=Developer Tools; Cloud
Run=Compute; Secret Manager=Security; Security Command Center=Security; Google Service
Control=Networking; Source Repository=Developer Tools; Cloud Spanner=Databases; Speaker ID=AI and
Machine Learning; Cloud Speech API=Integration; Transfer Service=Storage; Google Click to Deploy Deep
Learning VM=AI and Machine Learning; Firebase Test Lab=Mobile; Cloud Text-to-Speech API=Integration;
Cloud TPU=AI and Machine Learning; Transcode API=Integration; Transcoder API=Integration; Transfer
Appliance=Migration; Maps SDK for Unity=Integration; Cloud Video Intelligence API=Integration; Video
Stitcher API=Integration; Cloud Vision API=Integration; VMware Engine=Compute; Web Risk=Security;
Workflows=Developer Tools; Zync=Media; Cloud CDN=Networking; Stackdriver=Management and Governance
"""
)

OCI_SERVICE_CATEGORIES: dict[str, str] = _table(
    """
COMPUTE=Compute; BLOCK_STORAGE=Storage; OBJECTSTORE=Storage; FILE_STORAGE=Storage; NETWORK=Networking;
LOAD_BALANCER=Networking; DATABASE=Databases; MYSQL=Databases; NOSQL=Databases; TELEMETRY=Management and
Governance; LOGGING=Management and Governance; API_GATEWAY=Integration; FUNCTIONS=Compute; KMS=Security;
VAULT=Security; ORACLE_STREAMING_SERVICE=Integration
"""
)
