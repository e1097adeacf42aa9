"""The per-day rollup, counted from the hourly rows of each workspace in its time zone."""

import django.db.models.deletion
from django.db import migrations, models


def count_days(apps, schema_editor):
    from samphan.listening.rollups import daily_of, zone_named

    workspace_model = apps.get_model("accounts", "Workspace")
    hourly_model = apps.get_model("listening", "MentionHourly")
    daily_model = apps.get_model("listening", "MentionDaily")
    zone_model = apps.get_model("listening", "DailyRollupZone")
    labels = ("positive", "neutral", "negative", "question")
    for workspace_id in hourly_model.objects.values_list("workspace_id", flat=True).distinct():
        name = workspace_model.objects.filter(pk=workspace_id).values_list("time_zone", flat=True).first() or ""
        zone = zone_named(name)
        hourly = {(t, h): c for t, h, *c in hourly_model.objects.filter(workspace_id=workspace_id)
                  .values_list("topic_id", "hour", *labels).iterator(chunk_size=10_000)}
        daily_model.objects.bulk_create(
            [daily_model(workspace_id=workspace_id, topic_id=t, day=d, **dict(zip(labels, counts, strict=True)))
             for (t, d), counts in daily_of(hourly, zone).items() if any(counts)], batch_size=2000)
        zone_model.objects.create(workspace_id=workspace_id, time_zone=zone.key)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('listening', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='DailyRollupZone',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('time_zone', models.CharField(max_length=64)),
                ('workspace', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.workspace')),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='MentionDaily',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('topic_id', models.IntegerField()),
                ('day', models.DateField()),
                ('positive', models.IntegerField(default=0)),
                ('neutral', models.IntegerField(default=0)),
                ('negative', models.IntegerField(default=0)),
                ('question', models.IntegerField(default=0)),
                ('workspace', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.workspace')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('workspace', 'topic_id', 'day'), name='uniq_listening_daily')],
            },
        ),
        migrations.RunPython(count_days, migrations.RunPython.noop),
    ]
