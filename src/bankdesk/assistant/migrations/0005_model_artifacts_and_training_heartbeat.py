import hashlib
import io
import zipfile
from pathlib import Path

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

# The files of a version, and the zip artifacts.artifact_unpack reads (written here as it was
# when this migration was made, so that later changes to the module cannot change it).
REQUIRED_FILES = ("model.json", "model.npz")
OPTIONAL_FILES = ("metrics.json",)


def store_ready_versions_found_here(apps, schema_editor):
    """Store the files of ready versions trained before this change, where this node has them.

    A version whose directory is on another node only stays served from that directory; the
    versions list says so, and training a new version serves every node.
    """
    ModelVersion = apps.get_model("assistant", "ModelVersion")
    ModelArtifact = apps.get_model("assistant", "ModelArtifact")
    root = Path(settings.BANKDESK_HOME) / "assistant" / "models"
    for version in ModelVersion.objects.filter(status="ready").exclude(directory="").order_by("pk"):
        directory = root / version.directory
        if not all((directory / name).is_file() for name in REQUIRED_FILES):
            continue
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in (*REQUIRED_FILES, *OPTIONAL_FILES):
                if (directory / name).is_file():
                    archive.write(directory / name, arcname=name)
        content = buffer.getvalue()
        ModelArtifact.objects.create(
            version=version,
            sha256=hashlib.sha256(content).hexdigest(),
            size=len(content),
            content=content,
        )


class Migration(migrations.Migration):

    dependencies = [
        ('assistant', '0004_turn_channel_message_key'),
    ]

    operations = [
        migrations.CreateModel(
            name='ModelArtifact',
            fields=[
                ('version', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='artifact', serialize=False, to='assistant.modelversion')),
                ('sha256', models.CharField(max_length=64)),
                ('size', models.PositiveBigIntegerField()),
                ('content', models.BinaryField()),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.AddField(
            model_name='modelversion',
            name='heartbeat_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='modelversion',
            name='retry_of',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='retried_by', to='assistant.modelversion'),
        ),
        migrations.AddField(
            model_name='modelversion',
            name='worker',
            field=models.CharField(blank=True, max_length=255),
        ),
        migrations.AddField(
            model_name='modelversion',
            name='worker_identity',
            field=models.CharField(blank=True, max_length=255),
        ),
        migrations.RunPython(store_ready_versions_found_here, migrations.RunPython.noop),
    ]
