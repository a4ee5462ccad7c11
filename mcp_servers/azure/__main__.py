from mcp_servers.azure import main

if __name__ == "__main__":
    main()
