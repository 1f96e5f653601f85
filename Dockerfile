# The salesprep image: the official Airflow 3 image plus the project, installed from the uv lock.
FROM apache/airflow:3.3.2-python3.11

USER root
RUN pip install --no-cache-dir "uv==0.13.8"
USER airflow

WORKDIR /opt/salesprep
COPY --chown=airflow:root pyproject.toml uv.lock README.md ./
# Install exactly the locked versions (no dev tools; s3fs for the compose's object storage), then the project itself without re-resolving.
RUN uv export --frozen --no-dev --extra s3 --no-hashes --no-emit-project -o /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt
COPY --chown=airflow:root include ./include
COPY --chown=airflow:root dags ./dags
COPY --chown=airflow:root dbt_project ./dbt_project
# The metric dictionary every week's packets link to (published next to them).
COPY --chown=airflow:root docs/metrics.md ./docs/metrics.md
RUN pip install --no-cache-dir --no-deps .
# The dbt manifest the Cosmos task group is rendered from (SALESPREP_DBT_TASKS=cosmos): parsing
# needs no warehouse, so the image carries one that matches its dbt project.
RUN SALESPREP_DBT_PROJECT_DIR=/opt/salesprep/dbt_project \
    python -m salesprep.orchestration.dbt_tasks

ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/salesprep/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    SALESPREP_DBT_PROJECT_DIR=/opt/salesprep/dbt_project \
    SALESPREP_DBT_MANIFEST=/opt/salesprep/dbt_project/target/manifest.json
