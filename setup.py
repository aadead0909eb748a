"""What pyproject.toml cannot say: the top-level ``migrations/`` folder ships inside the package as
``app/migrations`` (so an installed ``ldn-kb serve`` migrates from any folder), while the source tree keeps
Alembic's usual layout. Everything else is declared in pyproject.toml."""

from setuptools import find_namespace_packages, setup

# Namespace packages: the folders that hold only data (app/content/data, the static files and templates) are
# packages too, with their files declared in pyproject.toml's package-data, so setuptools has nothing to
# warn about ("importable but absent from the packages configuration").
setup(
    packages=[
        *find_namespace_packages(include=["app", "app.*"], exclude=["*.__pycache__"]),
        "app.migrations",
        "app.migrations.versions",
    ],
    package_dir={"app.migrations": "migrations"},
)
