from mcp_servers.gcp import main

if __name__ == "__main__":
    main()
