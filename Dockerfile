# The salesprep image: the official Airflow 3 image plus the project, installed from the uv lock.
FROM apache/airflow:3.3.2-python3.11

USER root
RUN pip install --no-cache-dir "uv==0.13.8"
USER airflow

WORKDIR /opt/salesprep
COPY --chown=airflow:root pyproject.toml uv.lock README.md ./
# Install exactly the locked versions (no dev tools), then the project itself without re-resolving.
RUN uv export --frozen --no-dev --no-hashes --no-emit-project -o /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt
COPY --chown=airflow:root include ./include
COPY --chown=airflow:root dags ./dags
COPY --chown=airflow:root dbt_project ./dbt_project
RUN pip install --no-cache-dir --no-deps .

ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/salesprep/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    SALESPREP_DBT_PROJECT_DIR=/opt/salesprep/dbt_project
