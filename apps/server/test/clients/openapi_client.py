"""A client for any OpenAPI 3.1 document, built at run time from the document alone (standard library only).

It stands for the non-TypeScript user: it knows nothing of this project but the served document. Usage:
python3 openapi_client.py DOCUMENT_URL LOGIN; prints one JSON line with what each step returned.
"""
import json
import sys
import urllib.error
import urllib.parse
import urllib.request


HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

class OpenApiClient:
    def __init__(self, document_url):
        with urllib.request.urlopen(document_url) as res:
            self.document = json.load(res)
        # The server URL may be relative to the document's own.
        self.server = urllib.parse.urljoin(document_url, self.document["servers"][0]["url"])
        self.token = None
        # operationId -> (method, path template, parameter names by location)
        self.operations = {}
        for path, item in self.document["paths"].items():
            for method, op in item.items():
                if method not in HTTP_METHODS:  # a path item's own servers, parameters or summary
                    continue
                params = {p["name"]: p["in"] for p in op.get("parameters", [])}
                self.operations[op["operationId"]] = (method.upper(), path, params, "requestBody" in op)

    def call(self, operation_id, **args):
        method, path, params, has_body = self.operations[operation_id]
        query = {}
        for name, location in params.items():
            if name not in args:
                continue
            value = args.pop(name)
            if location == "path":
                path = path.replace("{" + name + "}", urllib.parse.quote(str(value)))
            elif location == "query":
                query[name] = value
        url = self.server + path + ("?" + urllib.parse.urlencode(query) if query else "")
        headers = {"Authorization": "Bearer " + self.token} if self.token else {}
        data = None
        if has_body and args:
            data = json.dumps(args).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request) as res:
                return res.status, json.load(res)
        except urllib.error.HTTPError as err:
            return err.code, json.load(err)


def main():
    document_url, login = sys.argv[1], sys.argv[2]
    client = OpenApiClient(document_url)
    out = {"operations": sorted(client.operations)}
    out["register"] = client.call("register", user_name="Py Thon", login=login, password="snakes on a plane")
    status, pair = client.call("login", login=login, password="snakes on a plane")
    out["login"] = [status, sorted(pair)]
    client.token = pair["access_token"]
    out["listUsers"] = client.call("listUsers", limit=100)[0]
    out["userById"] = client.call("userById", id=out["register"][1]["id_user"])
    out["missing"] = client.call("userById", id=2147483647)
    print(json.dumps(out))


main()
