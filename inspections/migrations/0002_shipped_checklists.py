from django.db import migrations


def install(apps, schema_editor):
    from inspections.checklists import install as install_checklists

    install_checklists(apps.get_model("inspections", "ChecklistTemplate"), apps.get_model("inspections", "CheckItem"))


class Migration(migrations.Migration):
    dependencies = [("inspections", "0001_rounds")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
