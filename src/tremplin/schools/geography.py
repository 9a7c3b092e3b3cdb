"""Reference geography of Morocco (regions, provinces, communes), loaded from
``data/geography.json``. Idempotent: existing rows are updated by code, none is deleted."""

import json
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "geography.json"


def geography_load(region_model, province_model, commune_model, path: Path = DATA_FILE) -> int:
    """Upsert every region, province and commune; returns how many communes the file holds.

    Takes the model classes so the data migration can pass its historical models.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    communes = 0
    for region_data in data["regions"]:
        region, _ = region_model.objects.update_or_create(
            code=region_data["code"],
            defaults={"name": region_data["name_fr"], "name_ar": region_data["name_ar"]},
        )
        for province_data in region_data["provinces"]:
            province, _ = province_model.objects.update_or_create(
                code=province_data["code"],
                defaults={
                    "region": region,
                    "kind": province_data["kind"],
                    "name": province_data["name_fr"],
                    "name_ar": province_data["name_ar"],
                },
            )
            for commune_data in province_data["communes"]:
                commune_model.objects.update_or_create(
                    code=commune_data["code"],
                    defaults={
                        "province": province,
                        "kind": commune_data["kind"],
                        "name": commune_data["name_fr"],
                        "name_ar": commune_data["name_ar"],
                    },
                )
                communes += 1
    return communes
