from rest_framework import serializers

from screening.models import DedupAction, ImportBatch, Record


class ImportBatchSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()

    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "source_database",
            "search_date",
            "search_string",
            "file_name",
            "file_format",
            "encoding",
            "status",
            "progress",
            "records_read",
            "records_imported",
            "duplicates_found",
            "skipped",
            "error",
            "error_line",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_progress(self, batch: ImportBatch) -> int:
        from screening.services import import_progress_get

        if batch.status in (ImportBatch.Status.DONE, ImportBatch.Status.FAILED):
            return 100
        progress = import_progress_get(batch.pk)
        return int(progress["percent"]) if progress else 0


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    source_database = serializers.CharField(max_length=200)
    search_date = serializers.DateField(required=False, allow_null=True)
    search_string = serializers.CharField(required=False, allow_blank=True, default="")


class RecordSerializer(serializers.ModelSerializer):
    source_database = serializers.CharField(source="import_batch.source_database", read_only=True)
    doi_url = serializers.CharField(read_only=True)
    pubmed_url = serializers.CharField(read_only=True)

    class Meta:
        model = Record
        fields = [
            "id",
            "import_batch",
            "source_database",
            "source_line",
            "title",
            "abstract",
            "authors",
            "year",
            "journal",
            "volume",
            "issue",
            "pages",
            "doi",
            "doi_url",
            "pmid",
            "pubmed_url",
            "url",
            "keywords",
            "record_type",
            "raw",
            "duplicate_of",
            "duplicate_reason",
        ]
        read_only_fields = fields


class MergeSerializer(serializers.Serializer):
    other = serializers.IntegerField(help_text="The record this one duplicates.")


class DedupActionSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)

    class Meta:
        model = DedupAction
        fields = ["id", "kind", "record", "other", "created_by", "created_at", "undone_at"]
        read_only_fields = fields
