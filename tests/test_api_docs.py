"""Issue 14: the API is documented for staff by Swagger UI and Redoc, both from local static files, linked in the nav."""

import re

import pytest

pytestmark = pytest.mark.django_db

DOC_PAGES = ["/api/docs/", "/api/redoc/"]


def urls_in(html):
    return re.findall(r'(?:src|href)="([^"]+)"', html)


@pytest.mark.parametrize("path", DOC_PAGES)
def test_staff_read_the_api_docs_from_this_sites_static_files(client, make_person, path):
    client.force_login(make_person(is_staff=True))

    response = client.get(path)

    assert response.status_code == 200
    html = response.content.decode()
    scripts = re.findall(r'<script[^>]*\bsrc="([^"]+)"', html)
    # From this site: its static files, or (Swagger's start-up script) the docs view itself.
    assert scripts and all(re.match(r"/(static|api/docs)/", src) for src in scripts), scripts
    assert [url for url in urls_in(html) if re.match(r"(https?:)?//", url)] == []
    if path == "/api/docs/":
        # The split view's start-up script is a file too, from this site.
        script = client.get(scripts[-1]).content.decode()
        assert "SwaggerUIBundle" in script


def test_redoc_reads_the_schema_of_this_site_and_the_schema_is_openapi(client, make_person):
    client.force_login(make_person(is_staff=True))

    html = client.get("/api/redoc/").content.decode()

    assert '<redoc spec-url="/api/schema/"' in html
    assert "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js" in html
    assert client.get("/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js").status_code == 200
    assert client.get("/api/schema/").content.startswith(b"openapi:")


@pytest.mark.parametrize("path", DOC_PAGES)
def test_people_who_are_not_staff_do_not_get_the_api_docs(client, make_person, path):
    assert client.get(path).status_code in (401, 403)
    client.force_login(make_person("office"))

    response = client.get(path)

    assert response.status_code == 403
    assert b"redoc.standalone.js" not in response.content and b"swagger" not in response.content.lower()


def test_only_the_docs_pages_relax_the_style_policy_and_only_redoc_may_start_a_blob_worker(client, make_person):
    client.force_login(make_person("office", is_staff=True))

    def policy(path):
        header = client.get(path)["Content-Security-Policy"]
        return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())

    redoc, swagger, dashboard = policy("/api/redoc/"), policy("/api/docs/"), policy("/dashboard/")
    assert redoc["worker-src"] == "blob:" and "unsafe-inline" in redoc["style-src-elem"]
    assert "unsafe-inline" not in redoc["script-src"]
    assert "worker-src" not in swagger and "unsafe-inline" in swagger["style-src-elem"]
    assert "worker-src" not in dashboard and "unsafe-inline" not in dashboard["style-src-elem"]


@pytest.mark.parametrize(("language", "docs", "reference"), [("en", "API docs", "API reference"),
                                                            ("zh-hans", "API 文档", "API 参考")])
def test_the_navigation_links_the_api_docs_for_staff_only(client, make_person, shipped_plan, language, docs, reference):
    client.force_login(make_person("office", is_staff=True, language=language))
    html = client.get("/dashboard/").content.decode()
    assert f'<a href="/api/docs/" data-nav="api-docs">{docs}</a>' in html
    assert f'<a href="/api/redoc/" data-nav="api-reference">{reference}</a>' in html

    client.force_login(make_person("office", language=language))
    html = client.get("/dashboard/").content.decode()
    assert "/api/docs/" not in html and "/api/redoc/" not in html
