"""Image-folder ingestion: scan class folders, split by subject, build tf.Examples."""
