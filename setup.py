"""What pyproject.toml cannot say: the top-level ``migrations/`` folder ships inside the package as
``app/migrations`` (so an installed ``ldn-kb serve`` migrates from any folder), while the source tree keeps
Alembic's usual layout. Everything else is declared in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["app", "app.*"]), "app.migrations", "app.migrations.versions"],
    package_dir={"app.migrations": "migrations"},
)
